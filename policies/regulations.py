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
