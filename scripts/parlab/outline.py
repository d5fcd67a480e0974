"""The report's words before they are Markdown or HTML: RUNDIR/outline.txt
(its line format is in scripts/render-md) and the tables it shows,
RUNDIR/tables/NAME.tsv."""
import os


class Outline:
    def __init__(self, rundir):
        self.dir = rundir
        self.lines = []
        os.makedirs(os.path.join(rundir, "tables"), exist_ok=True)

    @staticmethod
    def _clean(text):
        return " ".join(str(text).split())

    def h1(self, text):
        self.lines.append("H1 " + self._clean(text))

    def h2(self, text):
        self.lines.append("H2 " + self._clean(text))

    def h3(self, text):
        self.lines.append("H3 " + self._clean(text))

    def p(self, text):
        self.lines.append("P " + self._clean(text))

    def li(self, text):
        self.lines.append("LI " + self._clean(text))

    def img(self, name, caption):
        """A plot, when scripts/plot drew it."""
        if os.path.exists(os.path.join(self.dir, name + ".png")):
            self.lines.append(f"IMG {name}\t{self._clean(caption)}")

    def table(self, name, header, rows, caption=""):
        """Writes tables/NAME.tsv and shows it; nothing when there are no rows."""
        if not rows:
            return False
        path = os.path.join(self.dir, "tables", name + ".tsv")
        with open(path, "w") as f:
            for r in [header] + rows:
                f.write("\t".join(self._clean(c) for c in r) + "\n")
        self.lines.append(f"TABLE tables/{name}.tsv\t{self._clean(caption)}")
        return True

    def pre(self, file):
        self.lines.append("PRE " + file)

    def link(self, file, text):
        self.lines.append(f"LINK {file}\t{self._clean(text)}")

    def write(self):
        with open(os.path.join(self.dir, "outline.txt"), "w") as f:
            f.write("\n".join(self.lines) + "\n")
