"""Benchmark QR rendering: the fixed mask that tcode uses against qrcode's mask search.

Run: .venv/bin/python bench/qr_render.py [N]. Prints mean, p50 and p99 milliseconds per PNG.
"""

import datetime
import statistics
import sys
import time
from collections.abc import Callable

from tcode import SigningKey, generate, render_png, sign
from tcode.qr import FIXED_MASK

DEFAULT_COUNT = 500
WARM_UP = 20
HOSPITALS = ("KNH", "MTRH", "CGH12")


def make_payloads(count: int) -> list[str]:
    """Sign count vouchers with fresh random T-codes."""
    key = SigningKey.generate()
    day = datetime.date(2025, 3, 1)
    return [sign(generate(), HOSPITALS[i % len(HOSPITALS)], day, key) for i in range(count)]


def time_interleaved(
    payloads: list[str], variants: dict[str, Callable[[str], bytes]]
) -> dict[str, list[float]]:
    """Render every payload with every variant in turn; return milliseconds per variant."""
    # Interleaving means CPU frequency changes and noisy neighbours hit all variants alike.
    for payload in payloads[:WARM_UP]:
        for render in variants.values():
            render(payload)
    timings: dict[str, list[float]] = {name: [] for name in variants}
    for payload in payloads:
        for name, render in variants.items():
            started = time.perf_counter()
            render(payload)
            timings[name].append((time.perf_counter() - started) * 1000)
    return timings


def percentile(timings: list[float], fraction: float) -> float:
    """Return the nearest-rank percentile of timings."""
    ordered = sorted(timings)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    """Render the same payloads both ways and print one table row per way."""
    count = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_COUNT
    payloads = make_payloads(count)
    variants = {
        f"fixed mask {FIXED_MASK}": lambda payload: render_png(payload),
        "mask search": lambda payload: render_png(payload, mask=None),
    }
    print(f"{count} PNGs, box_size 8, border 4, error correction M")
    print(f"{'variant':<14} {'mean ms':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name, timings in time_interleaved(payloads, variants).items():
        mean, p50, p99 = (
            statistics.mean(timings),
            percentile(timings, 0.5),
            percentile(timings, 0.99),
        )
        print(f"{name:<14} {mean:>8.2f} {p50:>8.2f} {p99:>8.2f}")


if __name__ == "__main__":
    main()
