"""What every Python script of parlab shares on its command line: one
line on stderr and exit status 2 for bad usage, as the C programs do."""
import argparse
import sys


class Parser(argparse.ArgumentParser):
    def error(self, message):
        sys.stderr.write(f"{self.prog}: error: {message} (try --help)\n")
        sys.exit(2)


def parser(prog, doc, epilog=None):
    """A parser whose --help is the module's docstring."""
    return Parser(prog=prog, description=doc, epilog=epilog,
                  formatter_class=argparse.RawDescriptionHelpFormatter)
