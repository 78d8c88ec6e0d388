"""Reading the package's HTML pages in tests: their sections, figures, SVG groups and
every resource they reference (which must all be inline)."""

from __future__ import annotations

from html.parser import HTMLParser


class PageParser(HTMLParser):
    """Collects, in document order, every ``section``'s attributes, the figures inside
    each section with an id, the SVG groups by class, and every src/href."""

    def __init__(self) -> None:
        super().__init__()
        self.sections: list[dict[str, str]] = []
        self.figures: dict[str, int] = {}
        self.groups: dict[str, set[str]] = {}
        self.refs: list[str] = []
        self._section_id = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "section":
            self.sections.append(a)
            self._section_id = a.get("id", self._section_id)
        if tag == "figure":
            self.figures[self._section_id] = self.figures.get(self._section_id, 0) + 1
        if tag == "g":
            for cls in a.get("class", "").split():
                self.groups.setdefault(cls, set()).add(a.get("data-name", ""))
        self.refs += [v for k, v in a.items() if k in ("src", "href") and v]

    def attribute(self, cls: str, name: str) -> list[str]:
        """``name`` of every section of class ``cls``, in order."""
        return [s.get(name, "") for s in self.sections if cls in s.get("class", "").split()]

    @property
    def ids(self) -> list[str]:
        return [s["id"] for s in self.sections if "id" in s]


def parse(html: str) -> PageParser:
    """The page ``html``, read."""
    page = PageParser()
    page.feed(html)
    return page
