#!/usr/bin/env python3
"""Checks that section citations of the repository's docs point at real headings.

Usage: tests/doc_citations.py [REPO_ROOT]   (default: the parent of this script's folder)

A citation names a file under docs/ and one or more section numbers, each after a section
sign: a single number, a range of two numbers joined by a hyphen or an en dash, or a list
separated by commas (or "and"). Every number must be a heading of that doc: a Markdown line
of one or more '#', a space, then the number followed by '.' or a space (so section 4.4 is
"### 4.4 Title" and section 4 is "## 4. Title"). Headings inside fenced code blocks do not
count.

A citation of one of the docs without the "docs/" prefix is an error too: every citation has
to point into the repository.

Scanned: *.cpp, *.hpp, *.mjs, *.js, *.py, *.md, *.txt and CMakeLists.txt, skipping .git,
node_modules and build* folders. Prints each problem as file:line and exits 1, or prints
"doc citations: N resolved" and exits 0.
"""
import os
import re
import sys

SECTION = "\u00a7"
NUMBER = r"\d+(?:\.\d+)*"
# One item: a number, or a range of two numbers (the second section sign is optional).
ITEM = rf"{SECTION}\s?{NUMBER}(?:\s?[-\u2013]\s?{SECTION}?\s?{NUMBER})?"
CITATION = re.compile(
    rf"(?<![\w.-])docs/([\w-]+)\.md\s*({ITEM}(?:\s*(?:,|\band\b)\s*{ITEM})*)"
)
NUMBERS = re.compile(NUMBER)
SCANNED_SUFFIXES = (".cpp", ".hpp", ".mjs", ".js", ".py", ".md", ".txt")
HEADING = re.compile(r"^#+\s+(\S+)")
FENCE = re.compile(r"^\s*(```|~~~)")


def headings(doc_path):
    """The section numbers of a Markdown file: '4' for '## 4. Title', '4.4' for '### 4.4 Title'."""
    found = set()
    in_fence = False
    with open(doc_path, encoding="utf-8") as f:
        for line in f:
            if FENCE.match(line):
                in_fence = not in_fence
                continue
            if in_fence:
                continue
            m = HEADING.match(line)
            if not m:
                continue
            first = m.group(1)
            number = first.rstrip(".")
            if re.fullmatch(NUMBER, number):
                found.add(number)
    return found


def scanned_files(root):
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(
            d for d in dirs if d not in (".git", "node_modules") and not d.startswith("build")
        )
        for name in sorted(files):
            if name.endswith(SCANNED_SUFFIXES) or name == "CMakeLists.txt":
                yield os.path.join(folder, name)


def main(argv):
    if len(argv) > 2:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    root = argv[1] if len(argv) == 2 else os.path.join(os.path.dirname(__file__), os.pardir)
    root = os.path.abspath(root)
    docs_dir = os.path.join(root, "docs")

    doc_names = {"protocol", "presence", "architecture"}
    if os.path.isdir(docs_dir):
        doc_names |= {n[:-3] for n in os.listdir(docs_dir) if n.endswith(".md")}
    bare = re.compile(
        rf"(?<!docs/)\b({'|'.join(sorted(map(re.escape, doc_names)))})\.md\s?"
        rf"({ITEM}(?:\s*(?:,|\band\b)\s*{ITEM})*|{SECTION})"
    )

    heading_cache = {}

    def sections_of(name):
        if name not in heading_cache:
            path = os.path.join(docs_dir, name + ".md")
            heading_cache[name] = headings(path) if os.path.isfile(path) else None
        return heading_cache[name]

    resolved = 0
    problems = []
    for path in scanned_files(root):
        rel = os.path.relpath(path, root)
        try:
            with open(path, encoding="utf-8") as f:
                lines = f.readlines()
        except (UnicodeDecodeError, OSError):
            continue
        for lineno, line in enumerate(lines, 1):
            for m in CITATION.finditer(line):
                name = m.group(1)
                sections = sections_of(name)
                for number in NUMBERS.findall(m.group(2)):
                    cited = f"docs/{name}.md {SECTION}{number}"
                    if sections is None:
                        problems.append(f"{rel}:{lineno}: {cited}: docs/{name}.md does not exist")
                    elif number not in sections:
                        problems.append(f"{rel}:{lineno}: {cited}: no such heading")
                    else:
                        resolved += 1
            for m in bare.finditer(line):
                name, cited = m.group(1), m.group(2)
                sections = sections_of(name) or set()
                missing = [n for n in NUMBERS.findall(cited) if n not in sections]
                note = f"; and {', '.join(SECTION + n for n in missing)} is not a heading" if missing else ""
                problems.append(
                    f"{rel}:{lineno}: bare citation '{name}.md {cited}': "
                    f"write docs/{name}.md {cited}{note}"
                )

    for p in problems:
        print(p)
    if problems:
        print(
            f"doc citations: {resolved} resolved, {len(problems)} unresolved or bare",
            file=sys.stderr,
        )
        return 1
    print(f"doc citations: {resolved} resolved")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
