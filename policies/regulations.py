"""The regulations and guidance the rules implement, each with a citation an auditor can look up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Regulation:
    id: str
    title: str
    citation: str
    url: str


REGULATIONS: dict[str, Regulation] = {
    r.id: r
    for r in (
        Regulation(
            "HDS-2024",
            "HDS certification referential 2024",
            "Référentiel de certification Hébergeur de Données de Santé (ANS, 2024), exigence de "
            "localisation: health data hosted exclusively within the European Economic Area; "
            "encryption and access control of hosted data (ISO 27001 Annex A as extended).",
            "https://esante.gouv.fr/produits-services/hds",
        ),
        Regulation(
            "SNC-3.2-19",
            "SecNumCloud 3.2 §19",
            "ANSSI, Prestataires de services d'informatique en nuage (SecNumCloud), référentiel "
            "d'exigences v3.2 (2022), §19: protection against non-European law (data location, "
            "service operated from the EU, immunity from extra-EU access requests).",
            "https://cyber.gouv.fr/publications/referentiel-secnumcloud",
        ),
        Regulation(
            "CNIL-SCHREMS-II",
            "CNIL on health data after Schrems II",
            "CNIL, mémoire au Conseil d'État on the Health Data Hub (Oct. 2020) and recommendations "
            "after CJEU C-311/18 (Schrems II): health data hosted by entities under EU jurisdiction; "
            "where a non-EU provider is used, encryption with keys held outside its control.",
            "https://www.cnil.fr/fr/la-plateforme-des-donnees-de-sante-health-data-hub",
        ),
        Regulation(
            "SCW-HDS",
            "Scaleway HDS guidance",
            "Scaleway, Health Data Hosting (HDS) documentation: HDS-certified products are operated in "
            "the fr-par region; encryption at rest and Key Manager for customer-managed keys.",
            "https://www.scaleway.com/en/docs/account/reference-content/scaleway-hds/",
        ),
        Regulation(
            "AWS-XKS",
            "AWS KMS external key stores",
            "AWS KMS Developer Guide, External key stores: keys of an EXTERNAL_KEY_STORE custom key "
            "store are backed by key material in an external key manager reached through an XKS "
            "proxy (HTTPS endpoint, PUBLIC_ENDPOINT or VPC_ENDPOINT_SERVICE connectivity, URI path "
            "ending in /kms/xks/v1); automatic rotation is not supported for these keys.",
            "https://docs.aws.amazon.com/kms/latest/developerguide/keystore-external.html",
        ),
        Regulation(
            "SREN-31",
            "Loi SREN art. 31 and circular n° 6519/SG",
            "Loi n° 2024-449 du 21 mai 2024 (SREN), art. 31: State services and operators using a "
            "commercial cloud for data of particular sensitivity use an offer qualified SecNumCloud (or an "
            "equivalent European scheme); Prime Minister's circular n° 6519/SG of 5 February 2026 restates "
            "that health data is in that class and that HDS alone does not suffice (docs/secnumcloud.md).",
            "https://numerique.gouv.fr/offre-accompagnement/reference-vade-mecum-sensibilite-donnees",
        ),
        Regulation(
            "S3NS-CMEK",
            "Cloud KMS customer-managed keys on S3NS",
            "S3NS documentation, Cloud KMS overview: customer-managed keys for 40+ services of Cloud de "
            "Confiance; Cloud KMS locations: key material stays in its region for the key's whole life; "
            "Cloud de Confiance has the single region u-france-east1.",
            "https://documentation.s3ns.fr/kms/docs/key-management-service?hl=fr",
        ),
        Regulation(
            "SCW-DOCS",
            "Scaleway product documentation (constraints)",
            "Scaleway's product and provider documentation, as recorded row by row with URL, retrieval date "
            "and quotation in data/facts/scaleway.yaml: IAM rule scope, the permission sets each use needs, "
            "argument conflicts, reserved container environment names, zonal products.",
            "https://www.scaleway.com/en/docs/",
        ),
        Regulation(
            "ANSSI-TLS",
            "ANSSI TLS recommendations",
            "ANSSI, Recommandations de sécurité relatives à TLS (v1.2, 2020): TLS 1.2 or 1.3 only, "
            "no cleartext protocol for sensitive data.",
            "https://cyber.gouv.fr/publications/recommandations-de-securite-relatives-tls",
        ),
    )
}


def describe(regulation_ids: tuple[str, ...]) -> str:
    """One line naming every regulation a rule implements."""
    return "; ".join(f"{REGULATIONS[r].title} ({REGULATIONS[r].citation})" for r in regulation_ids)


@dataclass(frozen=True)
class Control:
    """One requirement a rule implements, identified by its reference in its source (no copied text)."""

    id: str
    #: Catalog group: hds, secnumcloud, law, cnil, guidance.
    group: str
    #: The reference and a short title, as an auditor would look it up.
    title: str
    #: Where the requirement is published.
    source: str


HDS_SOURCE = "https://esante.gouv.fr/produits-services/hds"
SNC_SOURCE = "https://cyber.gouv.fr/publications/referentiel-secnumcloud"
EDPB_SOURCE = (
    "https://www.edpb.europa.eu/our-work-tools/our-documents/recommendations/"
    "recommendations-012020-measures-supplement-transfer_en"
)

#: The requirements the rules implement. HDS: référentiel de certification v2 (arrêté du 26 avril
#: 2024), whose requirements 28 to 31 are the data-sovereignty ones and which incorporates
#: ISO/IEC 27001:2022 (Annex A references). SecNumCloud: référentiel d'exigences v3.2 (ANSSI, 2022).
CONTROLS: dict[str, Control] = {
    c.id: c
    for c in (
        Control("hds-2024-28-31", "hds", "HDS v2 requirements 28-31: health data stored in the EEA; "
                "transfers and remote access from third countries", HDS_SOURCE),
        Control("hds-2024-a.5.9", "hds", "HDS v2 / ISO 27001:2022 A.5.9: inventory of information and assets",
                HDS_SOURCE),
        Control("hds-2024-a.5.17", "hds", "HDS v2 / ISO 27001:2022 A.5.17: authentication information",
                HDS_SOURCE),
        Control("hds-2024-a.5.23", "hds", "HDS v2 / ISO 27001:2022 A.5.23: information security for use of "
                "cloud services", HDS_SOURCE),
        Control("hds-2024-a.8.3", "hds", "HDS v2 / ISO 27001:2022 A.8.3: information access restriction",
                HDS_SOURCE),
        Control("hds-2024-a.8.20", "hds", "HDS v2 / ISO 27001:2022 A.8.20: networks security", HDS_SOURCE),
        Control("hds-2024-a.8.24", "hds", "HDS v2 / ISO 27001:2022 A.8.24: use of cryptography", HDS_SOURCE),
        Control("snc-3.2-10", "secnumcloud", "SecNumCloud 3.2 chapter 10: cryptology (keys and secrets)",
                SNC_SOURCE),
        Control("snc-3.2-10.1", "secnumcloud", "SecNumCloud 3.2 §10.1: encryption of stored data", SNC_SOURCE),
        Control("snc-3.2-10.2", "secnumcloud", "SecNumCloud 3.2 §10.2: encryption of data flows", SNC_SOURCE),
        Control("snc-3.2-13", "secnumcloud", "SecNumCloud 3.2 chapter 13: communications security", SNC_SOURCE),
        Control("snc-3.2-19.2", "secnumcloud", "SecNumCloud 3.2 §19.2: data location", SNC_SOURCE),
        Control("snc-3.2-19.6", "secnumcloud", "SecNumCloud 3.2 §19.6: protection against non-European law",
                SNC_SOURCE),
        Control("cnil-hdh-2020", "cnil", "CNIL, Health Data Hub brief to the Conseil d'État (Oct. 2020): health "
                "data hosted by entities under EU jurisdiction", REGULATIONS["CNIL-SCHREMS-II"].url),
        Control("edpb-01-2020-uc1", "cnil", "EDPB Recommendations 01/2020 (relayed by the CNIL), use case 1: "
                "encryption with keys kept under the exporter's control", EDPB_SOURCE),
        Control("aws-xks", "guidance", "AWS KMS developer guide: external key stores", REGULATIONS["AWS-XKS"].url),
        Control("scw-hds", "guidance", "Scaleway HDS documentation: certified products in fr-par, Key Manager",
                REGULATIONS["SCW-HDS"].url),
        Control("sren-31", "law", "Loi SREN (2024-449) art. 31: State data of particular sensitivity on a "
                "SecNumCloud-qualified offer", "https://www.legifrance.gouv.fr/loda/id/JORFTEXT000049563368"),
        Control("s3ns-cmek", "guidance", "S3NS documentation: Cloud KMS customer-managed keys in u-france-east1",
                "https://documentation.s3ns.fr/kms/docs/key-management-service?hl=fr"),
        Control("scw-docs", "guidance", "Scaleway documentation: constraints in data/facts/scaleway.yaml",
                REGULATIONS["SCW-DOCS"].url),
        Control("anssi-tls-1.2", "guidance", "ANSSI TLS recommendations v1.2: TLS 1.2 or 1.3 only",
                REGULATIONS["ANSSI-TLS"].url),
    )
}  # fmt: skip

#: Which controls each rule implements: the one mapping SARIF, the HTML report and OSCAL read.
RULE_CONTROLS: dict[str, tuple[str, ...]] = {
    "BK-ACCESS-001": ("hds-2024-a.8.3", "snc-3.2-10", "edpb-01-2020-uc1", "aws-xks"),
    "BK-ENC-001": ("hds-2024-a.8.24", "snc-3.2-10.1", "edpb-01-2020-uc1", "aws-xks"),
    "BK-ENC-002": ("hds-2024-a.8.24", "snc-3.2-10.1", "scw-hds"),
    "BK-ENC-003": ("hds-2024-a.5.9", "snc-3.2-10.1"),
    "BK-ENC-004": ("snc-3.2-10.1", "edpb-01-2020-uc1", "scw-hds"),
    "BK-EXP-001": ("hds-2024-a.8.3",),
    "BK-EXP-002": ("hds-2024-a.8.20", "snc-3.2-13"),
    "BK-EXP-003": ("hds-2024-a.8.20", "snc-3.2-13"),
    "BK-EXP-004": ("hds-2024-a.5.17", "snc-3.2-10"),
    "BK-KEY-001": ("snc-3.2-10", "snc-3.2-19.6", "edpb-01-2020-uc1", "aws-xks"),
    "BK-KEY-002": ("snc-3.2-10", "edpb-01-2020-uc1", "aws-xks"),
    "BK-KEY-003": ("snc-3.2-10", "snc-3.2-19.2", "scw-hds"),
    "BK-KEY-004": ("snc-3.2-10", "aws-xks"),
    "BK-LIVE-001": ("snc-3.2-10", "aws-xks"),
    "BK-LIVE-002": ("hds-2024-a.8.24", "aws-xks"),
    "BK-LIVE-003": ("aws-xks",),
    "BK-LIVE-004": ("hds-2024-a.5.9",),
    "BK-PROV-001": ("hds-2024-a.5.23", "hds-2024-28-31"),
    "BK-PROV-002": ("snc-3.2-19.6", "snc-3.2-19.2"),
    "BK-REGION-001": ("hds-2024-28-31", "snc-3.2-19.2", "cnil-hdh-2020", "scw-hds"),
    "BK-REGION-002": ("hds-2024-28-31", "snc-3.2-19.2", "cnil-hdh-2020"),
    "BK-TLS-001": ("hds-2024-a.8.24", "snc-3.2-10.2", "anssi-tls-1.2"),
    "BK-IAM-001": ("hds-2024-a.8.3", "scw-docs"),
    "BK-IAM-002": ("hds-2024-a.8.3", "scw-docs"),
    "BK-SCW-001": ("hds-2024-a.5.23", "scw-docs"),
    "BK-KEY-007": ("snc-3.2-10", "aws-xks", "scw-docs"),
    "BK-SCW-002": ("hds-2024-a.5.23", "scw-docs"),
    "BK-TLS-002": ("snc-3.2-10.2", "anssi-tls-1.2"),
    "BK-TLS-003": ("snc-3.2-10.2", "anssi-tls-1.2"),
}

#: Controls a rule not yet listed above falls back to, by the regulation it cites (so a new rule is
#: never without a control; listing it in RULE_CONTROLS makes it precise).
REGULATION_CONTROLS: dict[str, tuple[str, ...]] = {
    "HDS-2024": ("hds-2024-28-31",),
    "SNC-3.2-19": ("snc-3.2-19.6",),
    "CNIL-SCHREMS-II": ("cnil-hdh-2020",),
    "SCW-HDS": ("scw-hds",),
    "AWS-XKS": ("aws-xks",),
    "ANSSI-TLS": ("anssi-tls-1.2",),
    "SREN-31": ("sren-31",),
    "S3NS-CMEK": ("s3ns-cmek", "snc-3.2-10.1"),
    "SCW-DOCS": ("scw-docs",),
}


def controls_of(rule_id: str, regulation_ids: tuple[str, ...] = ()) -> tuple[str, ...]:
    """The controls a rule implements (its RULE_CONTROLS entry, else its regulations' fallbacks)."""
    if rule_id in RULE_CONTROLS:
        return RULE_CONTROLS[rule_id]
    found: list[str] = []
    for regulation in regulation_ids:
        found += [c for c in REGULATION_CONTROLS.get(regulation, ()) if c not in found]
    return tuple(found)
