"""What a sweep shows while it runs: a progress bar over members and one line per finished group.

The bar (tqdm, on stderr) counts members; a member counts 1 once trained and evaluated. While a
vmapped group trains, each of its members advances by :data:`TRAIN_SHARE` in proportion to the
steps done, so a sweep that is one big group still shows progress and an ETA (members trained
one after another show their own step bar from ``train.progress``).

The line of a finished group (on stdout, printed through tqdm so the bar stays intact) gives its
members, steps, wall times and two throughputs, labelled so nobody reads one as the other:
*aggregate* examples/s is every member's examples over the group's training wall time (the
sweep's speed); *per member* is that divided by the members (what each member saw).
"""

from __future__ import annotations

import dataclasses
import sys

TRAIN_SHARE = 0.9  # of a member's bar unit; evaluation is the rest


@dataclasses.dataclass(frozen=True)
class GroupStats:
    """One finished group: ``steps`` per member, ``examples`` per member (steps x batch),
    ``train_s`` the training wall time (compilation excluded), ``compile_s`` and ``eval_s``."""

    index: int
    num_groups: int
    names: tuple[str, ...]
    vmapped: bool
    steps: int
    examples: int
    train_s: float
    compile_s: float | None
    eval_s: float

    @property
    def aggregate_examples_per_s(self) -> float:
        """All members' examples per second of the group's training wall time."""
        return len(self.names) * self.examples / self.train_s if self.train_s > 0 else 0.0

    @property
    def per_member_examples_per_s(self) -> float:
        return self.aggregate_examples_per_s / len(self.names)

    def line(self) -> str:
        """``group 1/2 (vmapped, 4 members): 400 steps each, trained in 12.3 s (+2.1 s
        compile), evaluated in 3.2 s; 5,203 examples/s aggregate (1,301 per member)``."""
        n = len(self.names)
        kind = f"vmapped, {n} members" if self.vmapped else self.names[0]
        compile_s = "" if self.compile_s is None else f" (+{self.compile_s:.1f} s compile)"
        rate = f"{self.aggregate_examples_per_s:,.0f} examples/s"
        rate += f" aggregate ({self.per_member_examples_per_s:,.0f} per member)" if n > 1 else ""
        return (
            f"group {self.index + 1}/{self.num_groups} ({kind}): {self.steps} steps"
            f"{' each' if n > 1 else ''}, trained in {self.train_s:.1f} s{compile_s}, "
            f"evaluated in {self.eval_s:.1f} s; {rate}"
        )


class SweepProgress:
    """The bar and the per-group lines; ``enabled=False`` shows neither (tests, scripts)."""

    def __init__(self, num_members: int, enabled: bool = True, out=None):
        self.enabled = enabled
        self.out = out
        self.bar = None
        if enabled and num_members:
            from tqdm import tqdm

            self.bar = tqdm(
                total=num_members,
                unit="member",
                file=sys.stderr,
                dynamic_ncols=True,
                smoothing=0.3,
                desc="sweep",
                bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.0f} members "
                "[{elapsed}<{remaining}{postfix}]",
            )
        self._credited = 0.0  # training share already credited to the current group

    def start_group(self, index: int, num_groups: int, size: int):
        self._credited = 0.0
        if self.bar is not None:
            kind = f", vmapped, {size} members" if size > 1 else ""
            self.bar.set_description_str(f"sweep group {index + 1}/{num_groups}{kind}", True)

    def trained_fraction(self, size: int, fraction: float):
        """The current group's members are ``fraction`` (0 to 1) through training."""
        due = size * TRAIN_SHARE * min(max(fraction, 0.0), 1.0)
        if self.bar is not None and due > self._credited:
            self.bar.update(due - self._credited)
        self._credited = max(self._credited, due)

    def evaluated(self):
        """One member of the current group is evaluated."""
        if self.bar is not None:
            self.bar.update(1.0 - TRAIN_SHARE)

    def group_done(self, stats: GroupStats):
        if self.bar is not None:  # float steps of 0.9 and 0.1 sum to 7.9999...: snap
            self.bar.n = round(self.bar.n, 6)
            self.bar.refresh()
        if not self.enabled:
            return
        out = self.out if self.out is not None else sys.stdout
        if self.bar is not None:
            self.bar.write(stats.line(), file=out)
        else:
            print(stats.line(), file=out, flush=True)

    def close(self):
        if self.bar is not None:
            self.bar.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
