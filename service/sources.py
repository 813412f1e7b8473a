"""The review articles (seeds) the rules come from; cards and texts cite them by id."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    id: str
    label: str
    doi: str

    @property
    def url(self) -> str:
        return f"https://doi.org/{self.doi}"


# The DOI of 000 is not printed in the seed text; it is the article's published DOI
# (Blood 2020;136(16):1803-1812), quoted from the journal record: check it if it matters.
# 004 prints "blood-2014-09551937"; the journal's DOI has the hyphen "09-551937".
SOURCES: dict[str, Source] = {
    s.id: s
    for s in (
        Source("000", "Hunger & Raetz, Blood 2020: How I treat relapsed pediatric ALL",
               "10.1182/blood.2019004043"),
        Source("001", "Locatelli et al., Blood 2012: How I treat relapsed childhood ALL",
               "10.1182/blood-2012-02-265884"),
        Source("002", "Fuster, World J Hematol 2014: Current approach to relapsed childhood ALL",
               "10.5315/wjh.v3.i3.49"),
        Source("003", "Jacoby, Haematologica 2025: Relapsed ALL, back to the drawing board",
               "10.3324/haematol.2025.288191"),
        Source("004", "Frey & Luger, Blood 2015: How I treat adults with relapsed/refractory "
               "Ph-negative ALL", "10.1182/blood-2014-09-551937"),
    )
}
