from reasonlab.cli.main import app

# Guarded: engines that start worker processes by spawning (vLLM) re-import the main module.
if __name__ == "__main__":
    app(prog_name="reasonlab")
