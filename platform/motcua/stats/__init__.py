"""Transparency statistics (thống kê), computed live from the dossiers in the store.

The figures every agency reports (DOMAIN.md, Decision 766): procedures per service level,
dossiers received per channel with the online share, dossiers settled on time, and the
citizens' satisfaction. What each figure counts, with its wording and source in Vietnamese
and English, is defined once in `figures` (and for people in docs/statistics.md); in short:

- *Received* in the period that holds the filing day (Vietnam time), unless the dossier was
  refused at intake (status 3): such a dossier is counted only as *refused at intake*, on
  its own line, by the day of the refusal — never as received, settled or open.
- *Settled* when it first reaches FINISHED (9) — or RETURNED (10) when no FINISHED was
  recorded before it — in the period; *early* / *on time* / *late* against `due_date`,
  which the engine moves on by every pause of the clock. On-time rate = (early + on time)
  / settled (Decision 766).
- *Withdrawn* (7) and *stopped* (8, as of the count day) are reported apart from settled
  and from open. *Open* = received, neither settled, withdrawn nor stopped on the count day
  (the period's last day, or today while it runs); *overdue* by `lifecycle.overdue`, the
  rule the engine and the staff queue use too. *Carried over* = filed before the period and
  still unsettled when it began. Carried over + received = settled + withdrawn + stopped
  + open.

Pure computations live in `figures`, `report`, `period` and `numbers`; `charts` draws SVG,
`tables` writes CSV and terminal tables, `cli` is the `motcua stats` command, `source` the
only I/O. Nothing here imports Flask.
"""
