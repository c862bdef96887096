"""The first code that runs inside a sandboxed process, before the untrusted program.

Started by :mod:`reasonlab.scoring.sandbox` as ``python -I -S _sandbox_child.py KEY=VALUE ...`` in its
own session, with a minimal environment, stdout/stderr redirected to files and the private work
directory as cwd. Standard library only (the untrusted program's interpreter must not import the
harness), and only cheap modules: start-up time is paid once per program (json, runpy and traceback
alone would add 40 ms).

Strongest isolation (root or CAP_SYS_ADMIN): new network namespace (no interfaces up), new mount
namespace where every mount but the work directory is read-only, new PID namespace (the program is its
pid 1: when it dies every process it started dies with it), then resource limits and a drop to the
unprivileged ``nobody`` user (so RLIMIT_NPROC applies and no other user's process can be signalled or
read). Where namespaces are not permitted the child falls back to resource limits plus audit hooks that
refuse sockets, writes outside the work directory and signals to other processes; audit hooks bind pure
Python code only (``ctypes`` can bypass them), which the sandbox reports as ``isolation: "hooks"``.
"""

import builtins
import ctypes
import os
import resource
import signal
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
MS_PRIVATE = 1 << 18
MS_NOSUID = 2
MS_NODEV = 4
MS_NOEXEC = 8
NOBODY = 65534
REFUSED_SOCKET = "network access is disabled in the sandbox"


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo") as mountinfo:
        return [line.split()[4] for line in mountinfo]


def _hidden_from_others(paths: list[str]) -> dict[str, list[str]]:
    """For each path under a directory others cannot enter (``/root`` is 0700): that directory -> paths."""
    hidden: dict[str, list[str]] = {}
    for path in sorted(set(paths)):
        parts = path.split(os.sep)
        for depth in range(2, len(parts) + 1):
            ancestor = os.sep.join(parts[:depth])
            if not os.stat(ancestor).st_mode & 0o001:
                inside = hidden.setdefault(ancestor, [])
                if ancestor != path and not any(path.startswith(p + os.sep) for p in inside):
                    inside.append(path)
                break
    return hidden


def _expose_interpreter(mount, stage: str, site_packages: list[str]) -> None:
    """Let ``nobody`` reach the interpreter's own files even when they sit under a private directory:
    cover that directory with an empty tmpfs and bind just the interpreter's directories back into it."""
    candidates = {*sys.path, *site_packages, sys.prefix, sys.base_prefix, os.path.dirname(sys.executable)}
    needed = [p for p in candidates if os.path.isdir(p)]
    hidden = _hidden_from_others([os.path.realpath(p) for p in needed])
    staged = []
    if hidden:
        os.makedirs(stage, exist_ok=True)
    for inside in hidden.values():
        for path in inside:
            holder = os.path.join(stage, str(len(staged)))
            os.mkdir(holder)
            mount(path.encode(), holder.encode(), None, MS_BIND | MS_REC, None)
            staged.append((holder, path))
    for ancestor in hidden:
        mount(b"tmpfs", ancestor.encode(), b"tmpfs", 0, b"mode=0755,size=1m")
    for holder, path in staged:
        os.makedirs(path, exist_ok=True)
        mount(holder.encode(), path.encode(), None, MS_BIND | MS_REC, None)


def _mount():
    mount = ctypes.CDLL(None, use_errno=True).mount
    mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    return mount


def enter_namespaces(workdir: str, site_packages: list[str]) -> bool:
    """New net/mount/pid namespaces with everything but ``workdir`` read-only; False if not permitted
    (or if the root file system could not be made read-only: then only the audit hooks guard writes)."""
    if ctypes.CDLL(None, use_errno=True).unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID) != 0:
        return False
    mount = _mount()
    if mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    if mount(workdir.encode(), workdir.encode(), None, MS_BIND, None) != 0:
        return False
    _expose_interpreter(mount, os.path.join(os.path.dirname(workdir), "stage"), site_packages)
    root_read_only = False
    for point in _mount_points():
        if point != workdir:
            # Some pseudo file systems refuse a read-only remount; they hold nothing a program could
            # persist through, so only the root file system's refusal matters.
            refused = mount(None, point.encode(), None, MS_REMOUNT | MS_BIND | MS_RDONLY, None) != 0
            root_read_only = root_read_only or (point == "/" and not refused)
    return root_read_only


def mount_own_proc() -> None:
    """A /proc of the new PID namespace only: the program cannot list (or read the command lines of)
    the host's processes."""
    _mount()(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None)


def count_processes_of(uid: int) -> int:
    count = 0
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if os.stat(f"/proc/{entry}").st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def apply_limits(config: dict, existing_processes: int) -> None:
    cpu = int(config["cpu_seconds"])
    memory = int(config["memory_mb"]) * 1024 * 1024
    file_size = int(config["file_size_mb"]) * 1024 * 1024
    # RLIMIT_NPROC counts every process of the user, so leave room for the ones it already has.
    processes = existing_processes + int(config["max_processes"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size, file_size))
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def drop_privileges() -> None:
    """Become ``nobody`` (the caller is root)."""
    os.setgroups([])
    os.setgid(NOBODY)
    os.setuid(NOBODY)


def _is_write(mode, flags) -> bool:
    if isinstance(mode, str):
        return any(c in mode for c in "wax+")
    return isinstance(flags, int) and bool(flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC))


def _other_process(path: str) -> bool:
    """A /proc entry of another process (its environment, memory, command line)."""
    parts = os.path.realpath(path).split(os.sep)
    return len(parts) > 2 and parts[1] == "proc" and parts[2].isdigit() and int(parts[2]) != os.getpid()


PROCESS_EVENTS = ("os.fork", "os.forkpty", "os.posix_spawn", "os.spawn", "os.system", "subprocess.Popen")


def install_hooks(workdir: str, guard_files_and_signals: bool, refuse_processes: bool) -> None:
    """Audit hooks: no sockets ever; without namespaces, no writes outside ``workdir``, no signals to
    other processes, and (as root, where RLIMIT_NPROC does not apply) no new processes at all."""
    parent = os.getppid()
    allowed_roots = (workdir + os.sep, "/dev/null")

    def hook(event: str, args: tuple) -> None:
        if event == "socket.__new__":
            raise PermissionError(REFUSED_SOCKET)
        if not guard_files_and_signals:
            return
        if event == "open" and isinstance(args[0], str | bytes) and _other_process(os.fsdecode(args[0])):
            raise PermissionError("reading other processes' files is refused")
        if event == "open" and _is_write(args[1], args[2]) and isinstance(args[0], str | bytes):
            path = os.path.realpath(os.fsdecode(args[0]))
            if not (path + os.sep).startswith(allowed_roots) and path != "/dev/null":
                raise PermissionError(f"writing outside the sandbox directory is refused: {path}")
        elif event == "os.kill" and (args[0] <= 0 or args[0] == parent):
            raise PermissionError("signalling processes outside the sandbox is refused")
        elif event == "os.killpg":
            raise PermissionError("signalling process groups is refused")
        elif refuse_processes and event in PROCESS_EVENTS:
            raise PermissionError("starting processes is refused in this sandbox (no process limit applies)")

    sys.addaudithook(hook)


def run_program(program: str, site_packages: list[str]) -> int:
    sys.argv = [program]
    sys.path[:0] = [os.path.dirname(program)]
    sys.path += [path for path in site_packages if os.path.isdir(path)]
    # Started with -S: provide what the site module would have, for programs that call exit().
    builtins.exit = builtins.quit = sys.exit
    with open(program, "rb") as handle:
        code = compile(handle.read(), program, "exec")
    # A fresh __main__ module, so that the program sees none of this file's names.
    main_module = type(sys)("__main__")
    main_module.__file__ = program
    sys.modules["__main__"] = main_module
    try:
        exec(code, main_module.__dict__)
    except SystemExit as exit_request:
        code = exit_request.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    except BaseException as error:
        import traceback

        # Start the traceback at the program's own frame, not at this file's exec().
        traceback.print_exception(type(error), error, error.__traceback__.tb_next)
        return 1
    return 0


def exit_like(status: int) -> None:
    """Leave with the same exit code or signal as the waited-for child, so the harness sees it."""
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        signal.signal(sig, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        os.kill(os.getpid(), sig)
    os._exit(os.waitstatus_to_exitcode(status))


def read_config(arguments: list[str]) -> dict:
    config = dict(argument.split("=", 1) for argument in arguments)
    config["site_packages"] = [p for p in config.get("site_packages", "").split(os.pathsep) if p]
    return config


def main() -> None:
    config = read_config(sys.argv[1:])
    workdir = os.path.realpath(config["workdir"])
    program = os.path.join(workdir, config["program"])
    # Opened before the file system turns read-only, beside (not in) the program's directory: the
    # harness reads what isolation was reached, and the program cannot rewrite it.
    with open(os.path.join(os.path.dirname(workdir), "isolation"), "w") as record:
        isolated = config["namespaces"] == "1" and enter_namespaces(workdir, config["site_packages"])
        record.write("namespaces" if isolated else "hooks")
    if isolated:
        # unshare(CLONE_NEWPID) applies to children: the program runs as pid 1 of the new namespace.
        pid = os.fork()
        if pid:
            _, status = os.waitpid(pid, 0)
            exit_like(status)
    os.chdir(workdir)
    # Without namespaces, nobody might not be able to read the interpreter's files: stay who we are.
    uid = NOBODY if isolated else os.geteuid()
    existing_processes = count_processes_of(uid)  # counted in the host's /proc, as RLIMIT_NPROC counts
    if isolated:
        mount_own_proc()
        drop_privileges()
    apply_limits(config, existing_processes)
    guarded = not (isolated and uid == NOBODY)
    install_hooks(workdir, guard_files_and_signals=guarded, refuse_processes=guarded and uid == 0)
    code = run_program(program, config["site_packages"])
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code & 0xFF)


if __name__ == "__main__":
    main()
