"""SQLAlchemy 2 models, one module per concept. Importing this package registers every table on FAB's
metadata (``flask_appbuilder.Model``), which Alembic and the tests use."""
from portal.models.codes import Qualification, Trade  # noqa: F401
from portal.models.employers import Employer, EmployerDetail  # noqa: F401
from portal.models.workers import (  # noqa: F401
    Affiliation,
    Worker,
    WorkerAward,
    WorkerInsurance,
    WorkerPersonal,
    WorkerQualification,
    WorkerTrade,
)
from portal.models.sites import Site, SiteManagerAssignment  # noqa: F401
from portal.models.structure import SiteWorkerRegistration, StructureLink  # noqa: F401
from portal.models.devices import Credential, Device  # noqa: F401
from portal.models.events import EntryExitEvent  # noqa: F401
from portal.models.histories import WorkHistory  # noqa: F401
from portal.models.history_trail import WorkHistoryChange  # noqa: F401
from portal.models.audit import AuditLog  # noqa: F401
from portal.models.users import PortalUser  # noqa: F401
from portal.models.disclosure import DisclosureSetting  # noqa: F401
from portal.models.corrections import WorkCorrection  # noqa: F401
from portal.models.applications import CardReissueRequest, ChangeRequest  # noqa: F401
from portal.models.accounts import WorkerAccount  # noqa: F401
from portal.models.jobs import ReportJob  # noqa: F401
from portal.models.safety import (  # noqa: F401
    ConstructionLicense,
    SafetySubmission,
    SiteContract,
    SiteStaff,
    WorkerForeignStatus,
    WorkerSafetyRecord,
)
