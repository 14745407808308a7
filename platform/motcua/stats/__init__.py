"""Transparency statistics (thống kê), computed live from the dossiers in the store.

The figures every agency reports (DOMAIN.md, Decision 766): procedures per service level,
dossiers received per channel with the online share, dossiers settled on time, and the
citizens' satisfaction. Definitions (contracts.md, "STATS"):

- A dossier is *received* in the period that holds its filing date (Vietnam time).
- It is *settled* (đã giải quyết) when it first reaches FINISHED (9) or REFUSED (3) — or
  RETURNED (10) when no FINISHED was recorded before it — and the settled figure belongs to
  the period that holds the settle date. So a dossier filed in Q1 and settled in Q2 counts as
  received in Q1 and settled in Q2.
- Settled *early* (trước hạn) when the settle date < due_date, *on time* (đúng hạn) when
  equal, *late* (quá hạn) when after. FLOW keeps `due_date` extended by paused clocks, so a
  supplement request never makes a dossier late by itself. A dossier without a due date
  cannot be late. On-time rate = (early + on time) / settled.
- *Open* (đang giải quyết) = filed and neither settled nor withdrawn, as of the period's
  last day (or today when the period runs on); *overdue* by `lifecycle.overdue`, the one
  rule the engine and the staff queue use too: that day is past the due date moved on by a
  pause of the clock running then (in working days, or calendar days for a procedure whose
  limit is in calendar days), so a pause started before the due date keeps the dossier on
  time and one started after it does not. The staff overdue list is the same test as of
  today (its due date is the moved one).
  *Carried over* (kỳ trước chuyển qua) = filed before the period and still open when it began.
  These follow the one-stop report form: carried over + received = settled + withdrawn + open.

Pure computations live in `report`, `period`, `levels` and `numbers`; `charts` draws SVG,
`csvout` writes CSV, `cli` is the `motcua stats` command. Nothing here imports Flask.
"""
