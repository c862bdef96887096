from reasonlab.cli.main import app

app(prog_name="reasonlab")
