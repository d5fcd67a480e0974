"""What every Python script of parlab shares on its command line: one
line on stderr and exit status 2 for bad usage, as the C programs do."""
import argparse
import os
import sys


class Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (try --help)\n")
        sys.exit(2)


def parser(prog, doc, epilog=None):
    """A parser whose --help is the module's docstring."""
    return Parser(prog=prog, description=doc, epilog=epilog,
                  formatter_class=argparse.RawDescriptionHelpFormatter)


def run(main):
    """Runs a script's main and exits with its status; a file or stream
    that cannot be written (a full disk, a closed pipe) ends it with one
    line on stderr and status 1 instead of a traceback."""
    prog = os.path.basename(sys.argv[0])
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Nobody reads what is left: say nothing more on stdout.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.stderr.write(f"scripts/{prog}: error: standard output was closed\n")
        sys.exit(1)
    except OSError as e:
        where = f" {e.filename}" if e.filename else " standard output"
        sys.stderr.write(f"scripts/{prog}: error: cannot write{where}: {e.strerror or e}\n")
        sys.exit(1)
    sys.exit(status)
