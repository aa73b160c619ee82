"""Findings: what ``lint`` and ``audit`` report, graded by what an attacker gains."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Literal

from cors_lab.messages import Exchange

__all__ = ["SEVERITIES", "Finding", "FindingsReport", "Severity"]

Severity = Literal["critical", "high", "medium", "low", "info"]
#: From worst to mildest.
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")


@dataclass(frozen=True)
class Finding:
    """One problem.

    Fields:
        check: a stable id such as ``"origin-reflection"``.
        severity: ``critical`` (any site reads credentialed responses), ``high``,
            ``medium``, ``low`` or ``info`` (worth knowing, nothing to exploit).
        title: one line.
        why: why it matters, in terms of what an attacker gains.
        fix: what to change.
        evidence: the exchange that shows it (audit), or None (lint).
        value: the offending value (an origin, an option), when there is one.
    """

    check: str
    severity: Severity
    title: str
    why: str
    fix: str
    evidence: Exchange | None = field(default=None, compare=False)
    value: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "check": self.check,
            "severity": self.severity,
            "title": self.title,
            "why": self.why,
            "fix": self.fix,
            "value": self.value,
            "evidence": str(self.evidence) if self.evidence is not None else None,
        }


_COLORS = {"critical": "#b00020", "high": "#d84315", "medium": "#ef6c00", "low": "#827717", "info": "#546e7a"}


@dataclass(frozen=True)
class FindingsReport:
    """A list of findings about one target, worst first."""

    subject: str
    findings: list[Finding]
    notes: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.findings.sort(key=lambda f: (SEVERITIES.index(f.severity), f.check))

    def at_least(self, severity: Severity) -> list[Finding]:
        """The findings of ``severity`` or worse."""
        limit = SEVERITIES.index(severity)
        return [f for f in self.findings if SEVERITIES.index(f.severity) <= limit]

    @property
    def checks(self) -> list[str]:
        return [f.check for f in self.findings]

    def __bool__(self) -> bool:
        """True when something at ``low`` or worse was found."""
        return bool(self.at_least("low"))

    def as_dict(self) -> dict[str, object]:
        return {"subject": self.subject, "findings": [f.as_dict() for f in self.findings], "notes": list(self.notes)}

    def __str__(self) -> str:
        if not self.findings:
            lines = [f"{self.subject}: nothing found."]
        else:
            lines = [f"{self.subject}: {len(self.findings)} finding(s)"]
            for f in self.findings:
                lines.append(f"[{f.severity}] {f.check}: {f.title}")
                lines.append(f"    why: {f.why}")
                lines.append(f"    fix: {f.fix}")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        counts = ", ".join(f"{sum(f.severity == s for f in self.findings)} {s}" for s in SEVERITIES if any(f.severity == s for f in self.findings))
        return f"<{type(self).__name__} {self.subject}: {counts or 'nothing found'}>"

    def _repr_html_(self) -> str:
        rows = []
        for f in self.findings:
            color = _COLORS[f.severity]
            rows.append(
                "<tr>"
                f'<td style="color:{color};font-weight:bold;">{f.severity}</td>'
                f"<td><code>{html.escape(f.check)}</code></td>"
                f"<td>{html.escape(f.title)}<br><small>{html.escape(f.why)}</small></td>"
                f"<td>{html.escape(f.fix)}</td>"
                "</tr>"
            )
        head = f"<div><b>{html.escape(self.subject)}</b>: {len(self.findings)} finding(s)</div>"
        if not rows:
            head = f"<div><b>{html.escape(self.subject)}</b>: nothing found.</div>"
        table = (
            '<table style="border-collapse:collapse;font-size:13px;"><tr><th>severity</th><th>check</th>'
            "<th>what and why</th><th>fix</th></tr>" + "".join(rows) + "</table>"
            if rows
            else ""
        )
        notes = "".join(f"<div><small>note: {html.escape(n)}</small></div>" for n in self.notes)
        return f'<div class="cors-lab-findings">{head}{table}{notes}</div>'
