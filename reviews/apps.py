from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "reviews"
    verbose_name = "Reviews"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from standards.models import Threshold

        from .services import threshold_changed

        # A threshold changed recomputes the returns its framework version judges, and no others.
        post_save.connect(threshold_changed, sender=Threshold, dispatch_uid="reviews_threshold_saved")
        post_delete.connect(threshold_changed, sender=Threshold, dispatch_uid="reviews_threshold_deleted")
