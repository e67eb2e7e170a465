"""Split a list of options into pages without ever splitting an option."""

from __future__ import annotations

from collections.abc import Callable

# fits(page, start, stop, more): do options[start:stop] fit on page number `page`, together
# with a "more" line when `more` is true?
Fits = Callable[[int, int, int, bool], bool]


def split_pages(count: int, fits: Fits) -> list[range]:
    """Return consecutive ranges covering `count` options, each page as full as `fits` allows.

    A page always holds at least one option: an option too long for any page gets a page of
    its own and the renderer shortens it, rather than the caller losing the option.
    """
    pages: list[range] = []
    start = 0
    while start < count or not pages:
        page = len(pages)
        if fits(page, start, count, False):
            stop = count
        else:
            stop = start + 1
            while stop < count and fits(page, start, stop + 1, True):
                stop += 1
        pages.append(range(start, min(stop, count)))
        start = stop
    return pages
