"""The pages of returns: the list, a return's form, submitting, submissions, revision, evidence and Excel files.

Every page finds returns through ``Return.objects.restrict(user, action)`` (:mod:`providers.scoping`), so another
organisation's return is simply not found (404). Every change goes through :mod:`returns.services`, whose
plain-English refusals are shown beside the inputs they are about and in the error summary.
"""

from .files import EvidenceDownloadView, WorkbookDownloadView, WorkbookUploadView
from .lists import ReturnListView, StartReturnView
from .return_form import ReturnDetailView
from .submissions import ConfirmCarriedView, ReturnForRevisionView, SubmissionDetailView, SubmitView

__all__ = [
    "ConfirmCarriedView",
    "EvidenceDownloadView",
    "ReturnDetailView",
    "ReturnForRevisionView",
    "ReturnListView",
    "StartReturnView",
    "SubmissionDetailView",
    "SubmitView",
    "WorkbookDownloadView",
    "WorkbookUploadView",
]
