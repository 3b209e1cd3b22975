"""Interface strings of the report in English and French (facts carry their own two languages)."""

from __future__ import annotations

UI: dict[str, tuple[str, str]] = {
    "title": (
        "Hosting options for citizens' health data — comparison",
        "Options d'hébergement des données de santé des citoyens — comparaison",
    ),
    "summary_title": (
        "Health-data hosting: what to decide — one-page summary",
        "Hébergement des données de santé : ce qu'il faut décider — synthèse d'une page",
    ),
    "generated": ("Generated", "Généré le"),
    "load": ("Load", "Charge"),
    "per_month": ("appointments per month", "rendez-vous par mois"),
    "contents": ("Contents", "Sommaire"),
    "s_verdicts": ("Legal admissibility", "Recevabilité juridique"),
    "s_summary": ("Side by side", "Côte à côte"),
    "s_threats": ("Threat scenarios", "Scénarios de menace"),
    "s_custody": ("Key custody", "Garde des clés"),
    "s_cost": ("Cost of ownership", "Coût de possession"),
    "s_exit": ("Exit plan", "Plan de sortie"),
    "s_matrix": ("Weighted decision matrix", "Matrice de décision pondérée"),
    "s_inventory": ("Inventory", "Inventaire"),
    "s_policies": ("Policy results", "Résultats des politiques"),
    "s_context": ("Context a ministry weighs", "Contexte à prendre en compte"),
    "s_sources": ("Sources", "Sources"),
    "s_providers": ("Certifications and qualified perimeter", "Certifications et périmètre qualifié"),
    "providers_how": (
        "As data/facts/providers.yaml states them; the policies' allow-lists and the qualified-perimeter rule"
        " read the same file.",
        "Tels que les indique data/facts/providers.yaml ; les listes d'autorisation des politiques et la règle"
        " de périmètre qualifié lisent le même fichier.",
    ),
    "provider": ("Provider", "Fournisseur"),
    "status": ("Status", "Statut"),
    "resource": ("Resource", "Ressource"),
    "message": ("Message or justification", "Message ou justification"),
    "seat": ("Legal seat", "Siège"),
    "service": ("Service in the qualified perimeter", "Service du périmètre qualifié"),
    "evidence": ("Evidence", "Preuve"),
    "no_perimeter": ("no qualified perimeter", "aucun périmètre qualifié"),
    "must_know": ("Three things a minister must know", "Trois choses qu'un ministre doit savoir"),
    "rule": ("Rule", "Règle"),
    "applies": ("When it applies", "Quand elle s'applique"),
    "admissible": ("Admissible", "Recevable"),
    "conditional": ("Under conditions", "Sous conditions"),
    "not-admissible": ("Not admissible", "Non recevable"),
    "condition": ("Condition", "Condition"),
    "protected": ("Protected", "Protégé"),
    "partly": ("Partly", "Partiel"),
    "not-protected": ("Not protected", "Non protégé"),
    "rule_passed": (
        "policy rule(s) {ids} passed on the stack in SecNumCloud mode",
        "règle(s) {ids} respectée(s) par la pile en mode SecNumCloud",
    ),
    "rule_failed": (
        "run in SecNumCloud-only mode, policy rule(s) {ids} report {n} finding(s) on the stack:"
        " not admissible for data in scope",
        "exécutées en mode SecNumCloud seul, les règles {ids} relèvent {n} constat(s) sur la pile :"
        " non recevable pour les données dans le champ",
    ),
    "rule_not_run": (
        "qualified perimeter not checked: no stack or no rule for it",
        "périmètre qualifié non vérifié : pas de pile ou pas de règle",
    ),
    "overridden": ("verdict tightened by the policy result", "verdict durci par le résultat des politiques"),
    "stack_missing": (
        "No stack {stacks} in stacks/: preview, inventory, key custody, policy results and the bill of materials are missing for this option.",
        "Pas de pile {stacks} dans stacks/ : aperçu, inventaire, garde des clés, résultats des politiques et nomenclature manquent pour cette option.",
    ),
    "decrypt_at_rest": ("Who can decrypt data at rest", "Qui peut déchiffrer les données au repos"),
    "read_in_use": ("Who can read data in use", "Qui peut lire les données en usage"),
    "kill_switch": ("Kill switch and delay to effect", "Interrupteur et délai d'effet"),
    "foreign_cut": ("If a foreign authority cuts the service", "Si une autorité étrangère coupe le service"),
    "xks_limits": ("What the keys do not cover", "Ce que les clés ne couvrent pas"),
    "dependencies": ("Availability dependencies", "Dépendances de disponibilité"),
    "reversibility": ("Reversibility", "Réversibilité"),
    "keys_held": ("Keys in the preview", "Clés dans l'aperçu"),
    "policy": ("Policy results", "Résultats des politiques"),
    "policy_na": ("policy results not available", "résultats des politiques indisponibles"),
    "policy_line": (
        "{verdict}: {rules} rules evaluated, {failed} failed, {excepted} recorded exceptions",
        "{verdict} : {rules} règles évaluées, {failed} en échec, {excepted} exceptions enregistrées",
    ),
    "passed": ("passed", "conforme"),
    "FAILED": ("FAILED", "NON CONFORME"),
    "cost_warn": (
        "Each line keeps its currency; currencies are never added. A published unit price gives one figure; a range gives low and high. An option's total is shown only when none of its material lines is unpriced; otherwise the priced part is shown with the missing lines named, and no total is put beside another option's.",
        "Chaque ligne garde sa devise ; les devises ne sont jamais additionnées. Un prix unitaire publié donne un seul chiffre ; une fourchette donne bas et haut. Le total d'une option n'est montré que si aucune de ses lignes importantes n'est sans prix ; sinon la part chiffrée est montrée avec les lignes manquantes nommées, et aucun total n'est mis à côté de celui d'une autre option.",
    ),
    "total": ("Total per month", "Total par mois"),
    "priced_part": ("Priced part only (NOT a total)", "Part chiffrée seulement (PAS un total)"),
    "missing_lines": ("not priced", "sans prix"),
    "item": ("Item", "Poste"),
    "detail": ("Quantity x unit price", "Quantité x prix unitaire"),
    "monthly": ("Monthly (low - high)", "Mensuel (bas - haut)"),
    "basis": ("Basis", "Fondement"),
    "not_priced": ("not priced", "sans prix"),
    "b_provider": ("provider's own figure", "chiffre du fournisseur"),
    "b_third-party": ("third party, this region", "tiers, cette région"),
    "b_other-region": (
        "another or unstated region (high end: +30% regional uplift)",
        "autre région ou région non précisée (haut : +30 % d'écart régional)",
    ),
    "b_outdated": ("outdated provider figure", "chiffre ancien du fournisseur"),
    "b_none": ("no price", "aucun prix"),
    "peak": ("Peak sizing", "Dimensionnement de pointe"),
    "peak_text": (
        "Busiest minute of the 2021 campaign: {n} appointments per minute, that is about {gb} GB per hour or {mbps} Mbps through the load balancer at the load model's traffic per appointment.",
        "Minute la plus chargée de la campagne de 2021 : {n} rendez-vous par minute, soit environ {gb} Go par heure ou {mbps} Mbit/s à travers le répartiteur avec le trafic par rendez-vous du modèle.",
    ),
    "peak_lb": (
        "The Scaleway stack's load balancer {lb} carries {cap} Mbps: {verdict}.",
        "Le répartiteur de la pile Scaleway {lb} porte {cap} Mbit/s : {verdict}.",
    ),
    "peak_short": ("too small for that peak", "insuffisant pour ce pic"),
    "peak_ok": ("enough for that peak", "suffisant pour ce pic"),
    "assumptions": ("Load model (assumptions, not facts)", "Modèle de charge (hypothèses, pas des faits)"),
    "exit_volume": ("Data to move", "Données à transférer"),
    "exit_time": ("Time to move at {mbps:g} Mbps", "Durée du transfert à {mbps:g} Mbit/s"),
    "exit_egress": ("Egress cost of the move", "Coût de sortie du transfert"),
    "exit_keys": ("How keys are unwound", "Comment les clés sont dénouées"),
    "exit_contract": ("Reversibility commitments", "Engagements de réversibilité"),
    "exit_egress_range": (
        "{low} (switching charges banned from 12 January 2027) to {high} (today's rate)",
        "{low} (frais de changement interdits à partir du 12 janvier 2027) à {high} (tarif actuel)",
    ),
    "unknown": ("unknown", "inconnu"),
    "criterion": ("Criterion", "Critère"),
    "weight": ("Weight (file / used)", "Poids (fichier / retenu)"),
    "why": ("Why this weight", "Pourquoi ce poids"),
    "score_total": ("Weighted score (0-100)", "Score pondéré (0-100)"),
    "cost_withheld": (
        "Cost is left out of the matrix and the other weights rescaled: no option has a complete total in a single currency.",
        "Le coût est écarté de la matrice et les autres poids remis à l'échelle : aucune option n'a de total complet dans une seule devise.",
    ),
    "matrix_how": (
        "Scores (0 to 1) are computed from this report's verdicts, threat statuses and exit facts; weights come from data/facts/weights.yaml, which a ministry can edit and re-run.",
        "Les notes (0 à 1) sont calculées à partir des verdicts, des statuts de menace et des faits de sortie de ce rapport ; les poids viennent de data/facts/weights.yaml, que le ministère peut modifier avant de relancer.",
    ),
    "unkeyed": (
        "Data stores encrypted without a key of the stack (provider-managed)",
        "Magasins de données chiffrés sans clé de la pile (gérés par le fournisseur)",
    ),
    "key_store": ("Key store / operator", "Magasin de clés / opérateur"),
    "key": ("Key (where its material lives)", "Clé (où vit sa matière)"),
    "store": ("Data store it protects", "Magasin qu'elle protège"),
    "category": ("Category", "Catégorie"),
    "retrieved": ("Retrieved", "Consulté le"),
    "full_report": (
        "Full report with every source: compare",
        "Rapport complet avec toutes les sources : compare",
    ),
    "option": ("Option", "Option"),
    "verdict_table": ("Verdict per rule", "Verdict par règle"),
    "cost_range": ("Monthly cost at this load", "Coût mensuel à cette charge"),
    "matrix_score": ("Matrix score", "Score de la matrice"),
}


def ui(key: str, lang: str, **values: object) -> str:
    en, fr = UI[key]
    text = fr if lang == "fr" else en
    return text.format(**values) if values else text


#: Bill-of-materials item names are built from the preview in English (product names stay as the
#: provider spells them); these phrases are translated for the French pages, longest first.
ITEM_PHRASES: tuple[tuple[str, str], ...] = (
    ("NAT data processed", "données traitées par les passerelles NAT"),
    ("(external key store)", "(magasin de clés externe)"),
    ("CloudWatch Logs ingestion", "ingestion CloudWatch Logs"),
    ("Cockpit logs ingestion", "ingestion des journaux Cockpit"),
    ("Secrets Manager secrets", "secrets Secrets Manager"),
    ("Secret Manager secrets", "secrets Secret Manager"),
    ("Flexible IPv4 addresses", "adresses IPv4 flexibles"),
    ("Key Manager requests", "requêtes Key Manager"),
    ("Key Manager keys", "clés Key Manager"),
    ("Managed PostgreSQL", "PostgreSQL géré"),
    ("Database volume", "volume de la base"),
    ("Key store host", "hôte du magasin de clés"),
    ("AWS Backup vault (database + documents)", "coffre AWS Backup (base + documents)"),
    ("S3 documents (retained)", "documents S3 (conservés)"),
    ("Object Storage documents (retained)", "documents Object Storage (conservés)"),
    ("ALB capacity units (processed bytes)", "unités de capacité ALB (octets traités)"),
    ("Public IPv4", "IPv4 publiques"),
    ("NAT gateways", "passerelles NAT"),
    ("KMS requests", "requêtes KMS"),
    ("KMS keys", "clés KMS"),
    ("Load Balancer", "répartiteur de charge"),
    (" storage ", " stockage "),
    (" subnets", " sous-réseaux"),
    (" groups", " groupes"),
)


def item(text: str, lang: str) -> str:
    """A bill-of-materials item name in the page's language."""
    if lang != "fr":
        return text
    for english, french in ITEM_PHRASES:
        text = text.replace(english, french)
    return text
