"""Pages of reviews: dashboards, completeness and trends (:mod:`.dashboards`), a return's review and action plans
(:mod:`.review`), and the PDF assurance reports (:mod:`.reports`)."""
