from .catalog import ExchangeRate, PriceBook, PriceBookEntry, Product
from .forecasting import ForecastRun, Quota
from .leads import AssignmentRule, Lead, LeadForm, SalesSettings
from .pipelines import Competitor, Deal, DealContact, DealProduct, DealStageChange, LossReason, Pipeline, Stage
from .quotes import Quote, QuoteLine
from .scoring import ScoringModel, ScoringRule

__all__ = [
    "AssignmentRule",
    "Competitor",
    "Deal",
    "DealContact",
    "DealProduct",
    "DealStageChange",
    "ExchangeRate",
    "ForecastRun",
    "Lead",
    "LeadForm",
    "LossReason",
    "Pipeline",
    "PriceBook",
    "PriceBookEntry",
    "Product",
    "Quota",
    "Quote",
    "QuoteLine",
    "SalesSettings",
    "ScoringModel",
    "ScoringRule",
    "Stage",
]
