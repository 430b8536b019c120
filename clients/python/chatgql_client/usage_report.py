from datetime import datetime

from pydantic import Field

from .base_model import BaseModel
from .fragments import UsageTotalsFields


class UsageReport(BaseModel):
    usage_report: "UsageReportUsageReport" = Field(alias="usageReport")


class UsageReportUsageReport(BaseModel):
    periods: list["UsageReportUsageReportPeriods"]
    by_model: list["UsageReportUsageReportByModel"] = Field(alias="byModel")
    total: "UsageReportUsageReportTotal"


class UsageReportUsageReportPeriods(BaseModel):
    start: datetime
    model: str
    usage: "UsageReportUsageReportPeriodsUsage"


UsageReportUsageReportPeriodsUsage = UsageTotalsFields


class UsageReportUsageReportByModel(BaseModel):
    model: str
    usage: "UsageReportUsageReportByModelUsage"


UsageReportUsageReportByModelUsage = UsageTotalsFields
UsageReportUsageReportTotal = UsageTotalsFields
UsageReport.model_rebuild()
UsageReportUsageReport.model_rebuild()
UsageReportUsageReportPeriods.model_rebuild()
UsageReportUsageReportByModel.model_rebuild()
