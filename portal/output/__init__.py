"""What the screens and reports show: the site board, the monthly calendar and why a day does not count (``day_notes``),
能力評価, the dashboards, report jobs, how a value reads on a screen (``display``)."""
