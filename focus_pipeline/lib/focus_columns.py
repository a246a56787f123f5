"""Column names of the released FOCUS specifications 1.0 to 1.3, and the columns OCI emits.

Source: the FinOps Foundation's ``FinOps-Open-Cost-and-Usage-Spec/FOCUS_Spec`` repository, read
on 2026-12-01 through a stored copy of it (not a live clone). Tags could not be checked out, so
each version's set was put together from these files of that repository:

* 1.0: ``specification/columns/columns.mdpp`` at 57d3b052dc19, which includes exactly the 43
  column files of 1.0; the column ID and "Feature level" come from each ``specification/columns/
  *.md`` file; ``CHANGELOG.md`` v1.0 adds ChargeClass, CommitmentDiscountStatus, ContractedCost,
  ContractedUnitPrice, RegionId (was Region), RegionName and removes ChargeSubcategory.
* 1.1: 1.0 plus the seven columns ``CHANGELOG.md`` v1.1 adds. Feature levels come from the "v1.1
  (Original)" requirements in the repository's column-normative-requirements overview and from
  the column files (e.g. ``skumeter.md``, ``commitmentdiscountunit.md``: Conditional,
  Introduced 1.1). The 1.1 changelog changes no column's feature level.
* 1.2: 1.1 plus the seven columns ``CHANGELOG.md`` v1.2 adds. Feature levels come from the 1.2
  requirements model, ``specification/requirements_model/model_rules/datasets/costandusage.json``
  (57 presence rules: MUST, MUST when ..., RECOMMENDED).
* 1.3: 1.2 plus the eight columns ``CHANGELOG.md`` v1.3 adds; ProviderName and PublisherName
  are deprecated in 1.3 but still defined and still Mandatory. Feature levels come from the 1.3
  requirements model, ``.../model_rules/datasets/cost_and_usage/costandusage.json`` (presence
  rules D-069..D-076), and ``specification/datasets/cost_and_usage/columns/*.md``.

Only the Cost and Usage dataset is covered. The Contract Commitment dataset that 1.3 adds has
its own columns, and those are left out.

The column IDs ProviderName, PublisherName and InvoiceIssuerName have not changed since 0.5.
"Provider", "Publisher" and "Invoice Issuer" were their display names up to 1.2. OCI writes
these display names as headers, along with the 1.0-preview IDs Region, UsageQuantity,
UsageUnit and ChargeSubcategory.
"""

from __future__ import annotations

from dataclasses import dataclass

# The header of an OCI FOCUS report, in the order OCI writes it (not sorted).
OCI_COLUMNS: tuple[str, ...] = (
    "AvailabilityZone",
    "BilledCost",
    "BillingAccountId",
    "BillingAccountName",
    "BillingCurrency",
    "BillingPeriodEnd",
    "BillingPeriodStart",
    "ChargeCategory",
    "ChargeDescription",
    "ChargeFrequency",
    "ChargePeriodEnd",
    "ChargePeriodStart",
    "ChargeSubcategory",
    "CommitmentDiscountCategory",
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountType",
    "EffectiveCost",
    "InvoiceIssuer",
    "ListCost",
    "ListUnitPrice",
    "PricingCategory",
    "PricingQuantity",
    "PricingUnit",
    "Provider",
    "Publisher",
    "Region",
    "ResourceId",
    "ResourceName",
    "ResourceType",
    "ServiceCategory",
    "ServiceName",
    "SkuId",
    "SkuPriceId",
    "SubAccountId",
    "SubAccountName",
    "Tags",
    "UsageQuantity",
    "UsageUnit",
    "oci_ReferenceNumber",
    "oci_CompartmentId",
    "oci_CompartmentName",
    "oci_OverageFlag",
    "oci_UnitPriceOverage",
    "oci_BilledQuantityOverage",
    "oci_CostOverage",
    "oci_AttributedUsage",
    "oci_AttributedCost",
    "oci_BackReferenceNumber",
)


@dataclass(frozen=True)
class FocusVersion:
    """The columns one FOCUS version defines, and which of them are Mandatory."""

    columns: frozenset[str]
    mandatory: frozenset[str]


# Mandatory in 1.0, 1.1 and 1.2 alike.
_MANDATORY_1_0 = frozenset(
    {
        "BilledCost",
        "BillingAccountId",
        "BillingAccountName",
        "BillingCurrency",
        "BillingPeriodEnd",
        "BillingPeriodStart",
        "ChargeCategory",
        "ChargeClass",
        "ChargeDescription",
        "ChargePeriodEnd",
        "ChargePeriodStart",
        "ContractedCost",
        "EffectiveCost",
        "InvoiceIssuerName",
        "ListCost",
        "PricingQuantity",
        "PricingUnit",
        "ProviderName",
        "PublisherName",
        "ServiceCategory",
        "ServiceName",
    }
)

# 1.0 columns that are not Mandatory. AvailabilityZone and ChargeFrequency are Recommended;
# the rest are Conditional.
_OTHER_1_0 = frozenset(
    {
        "AvailabilityZone",
        "ChargeFrequency",
        "CommitmentDiscountCategory",
        "CommitmentDiscountId",
        "CommitmentDiscountName",
        "CommitmentDiscountStatus",
        "CommitmentDiscountType",
        "ConsumedQuantity",
        "ConsumedUnit",
        "ContractedUnitPrice",
        "ListUnitPrice",
        "PricingCategory",
        "RegionId",
        "RegionName",
        "ResourceId",
        "ResourceName",
        "ResourceType",
        "SkuId",
        "SkuPriceId",
        "SubAccountId",
        "SubAccountName",
        "Tags",
    }
)

# Added in 1.1. ServiceSubcategory is Recommended; the rest are Conditional.
_ADDED_1_1 = frozenset(
    {
        "CapacityReservationId",
        "CapacityReservationStatus",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountUnit",
        "ServiceSubcategory",
        "SkuMeter",
        "SkuPriceDetails",
    }
)

# Added in 1.2. InvoiceId is Recommended; the rest are Conditional.
_ADDED_1_2 = frozenset(
    {
        "BillingAccountType",
        "InvoiceId",
        "PricingCurrency",
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyEffectiveCost",
        "PricingCurrencyListUnitPrice",
        "SubAccountType",
    }
)

# Added in 1.3 and Mandatory there.
_ADDED_MANDATORY_1_3 = frozenset(
    {
        "HostProviderName",
        "ServiceProviderName",
    }
)

# Added in 1.3 and not Mandatory. AllocatedMethodDetails is Recommended (SHOULD); the rest are
# Conditional.
_ADDED_OTHER_1_3 = frozenset(
    {
        "AllocatedMethodDetails",
        "AllocatedMethodId",
        "AllocatedResourceId",
        "AllocatedResourceName",
        "AllocatedTags",
        "ContractApplied",
    }
)

_COLUMNS_1_0 = _MANDATORY_1_0 | _OTHER_1_0
_COLUMNS_1_1 = _COLUMNS_1_0 | _ADDED_1_1
_COLUMNS_1_2 = _COLUMNS_1_1 | _ADDED_1_2
_COLUMNS_1_3 = _COLUMNS_1_2 | _ADDED_MANDATORY_1_3 | _ADDED_OTHER_1_3

FOCUS_VERSIONS: dict[str, FocusVersion] = {
    "1.0": FocusVersion(columns=_COLUMNS_1_0, mandatory=_MANDATORY_1_0),
    "1.1": FocusVersion(columns=_COLUMNS_1_1, mandatory=_MANDATORY_1_0),
    "1.2": FocusVersion(columns=_COLUMNS_1_2, mandatory=_MANDATORY_1_0),
    "1.3": FocusVersion(columns=_COLUMNS_1_3, mandatory=_MANDATORY_1_0 | _ADDED_MANDATORY_1_3),
}
