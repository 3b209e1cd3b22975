"""Interface strings of the report in English and French (facts carry their own two languages)."""

from __future__ import annotations

import re

from babel.numbers import format_decimal

UI: dict[str, tuple[str, str]] = {
    "title": (
        "Sovereign hosting of citizens' health data: comparison of the options",
        "Hébergement souverain des données de santé des citoyens : comparaison des options",
    ),
    "summary_title": (
        "Sovereign hosting of the booking platform's health data: the decision asked",
        "Hébergement souverain des données de santé de la plateforme de rendez-vous : la décision demandée",
    ),
    "per_month": ("appointments per month", "rendez-vous par mois"),
    "contents": ("Contents", "Sommaire"),
    "s_summary": ("Side by side", "Les options côte à côte"),
    "s_threats": ("Threat scenarios", "Scénarios de menace"),
    "s_custody": ("Key custody", "Garde des clés"),
    "s_cost": ("Cost of ownership", "Coût de possession"),
    "s_exit": ("Exit plan", "Plan de sortie"),
    "s_matrix": ("Weighted decision matrix", "Matrice de décision pondérée"),
    "s_inventory": ("Inventory", "Inventaire"),
    "s_policies": ("Audit of each environment", "Audit de chaque environnement"),
    "s_context": ("Context a ministry weighs", "Contexte à prendre en compte"),
    "s_sources": ("Sources", "Sources"),
    "s_providers": ("Certifications and qualified perimeter", "Certifications et périmètre qualifié"),
    "providers_how": (
        "As this project's facts record them; the audit's lists of admitted providers and its qualified-perimeter rule rest on the same facts.",
        "Statuts et périmètre tels que le projet les consigne ; les listes des fournisseurs admis et la règle d'audit du périmètre qualifié reposent sur les mêmes données.",
    ),
    "provider": ("Provider", "Fournisseur"),
    "status": ("Status", "Statut"),
    "resource": ("Resource", "Ressource"),
    "message": ("Message or justification", "Message ou justification"),
    "seat": ("Legal seat", "Siège"),
    "service": ("Service in the qualified perimeter", "Service du périmètre qualifié"),
    "evidence": ("Evidence", "Preuve"),
    "no_perimeter": ("no qualified perimeter", "aucun périmètre qualifié"),
    "rule": ("Rule", "Règle"),
    "applies": ("When it applies", "Quand elle s'applique"),
    "conditional": ("Under conditions", "Sous conditions"),
    "protected": ("Protected", "Protégé"),
    "partly": ("Partly", "Partiel"),
    "not-protected": ("Not protected", "Non protégé"),
    "stack_missing": (
        "No environment {stacks} in this project: inventory, key custody, audit and bill of materials are missing for this option.",
        "Aucun environnement {stacks} dans ce projet : l'inventaire, la garde des clés, l'audit et la nomenclature font défaut pour cette option.",
    ),
    "decrypt_at_rest": ("Who can decrypt data at rest", "Qui peut déchiffrer les données au repos"),
    "read_in_use": ("Who can read data in use", "Qui peut lire les données en cours de traitement"),
    "kill_switch": ("Kill switch and delay to effect", "Coupe-circuit et délai d'effet"),
    "foreign_cut": ("If a foreign authority cuts the service", "Si une autorité étrangère coupe le service"),
    "xks_limits": ("What the keys do not cover", "Ce que les clés ne couvrent pas"),
    "dependencies": ("Availability dependencies", "Dépendances de disponibilité"),
    "reversibility": ("Reversibility", "Réversibilité"),
    "keys_held": ("Keys in the environment", "Clés de l'environnement"),
    "policy": ("Audit", "Audit"),
    "policy_na": ("audit not available", "audit indisponible"),
    "policy_line": (
        "{verdict}: {rules}, {failed}, {excepted}, {advisory}",
        "{verdict} : {rules}, {failed}, {excepted}, {advisory}",
    ),
    # Counted phrases (render.counted): the "_1" form is English's singular (1) and French's (0 and 1).
    "n_rules": ("{n} rules evaluated", "{n} règles évaluées"),
    "n_rules_1": ("{n} rule evaluated", "{n} règle évaluée"),
    "n_failed": ("{n} failed", "{n} en échec"),
    "n_failed_1": ("{n} failed", "{n} en échec"),
    "n_excepted": (
        "{n} findings under a recorded exception",
        "{n} constats couverts par une exception enregistrée",
    ),
    "n_excepted_1": (
        "{n} finding under a recorded exception",
        "{n} constat couvert par une exception enregistrée",
    ),
    "n_advisory": ("{n} advisory findings", "{n} constats indicatifs"),
    "n_advisory_1": ("{n} advisory finding", "{n} constat indicatif"),
    "n_requests_failed": ("{n} failed requests", "{n} requêtes en échec"),
    "n_requests_failed_1": ("{n} failed request", "{n} requête en échec"),
    "passed": ("passed", "conforme"),
    "FAILED": ("FAILED", "NON CONFORME"),
    "cost_warn": (
        "Each line keeps the currency of its source. Totals are in euros: a line in another currency is converted only at a dated, sourced exchange rate, otherwise it counts as missing. A published unit price gives one figure; a range gives low and high. An option's total is shown only when every line of the common scope is priced; otherwise its euro floor is shown with the missing lines named.",
        "Chaque poste garde la devise de sa source. Les totaux sont en euros : un poste dans une autre devise n'est converti qu'à un taux de change daté et sourcé, sinon il compte comme manquant. Un prix unitaire publié donne un seul chiffre ; une fourchette donne bas et haut. Le total d'une option n'est montré que si chaque poste du périmètre commun est chiffré ; sinon son plancher en euros est montré avec les postes manquants nommés.",
    ),
    "total": ("Total per month", "Total par mois"),
    "priced_part": ("from", "à partir de"),
    "missing_lines": ("lines not priced", "postes sans prix"),
    "item": ("Item", "Poste"),
    "detail": ("Quantity \u00d7 unit price", "Quantité \u00d7 prix unitaire"),
    "monthly": ("Monthly, low \u2013 high", "Coût mensuel, bas \u2013 haut"),
    "basis": ("Basis", "Fondement"),
    "not_priced": ("not priced", "sans prix"),
    "b_provider": ("provider's own figure", "chiffre du fournisseur"),
    "b_third-party": ("third-party figure, this region", "chiffre d'un tiers pour cette région"),
    "b_other-region": (
        "another or unstated region (high end: +{pct}% regional uplift)",
        "autre région ou région non précisée (haut : +{pct} % d'écart régional)",
    ),
    "b_analogue": (
        "no figure for this item here: range from the nearest sourced analogues",
        "aucun chiffre pour ce poste ici : fourchette tirée des analogues sourcés les plus proches",
    ),
    "b_outdated": ("outdated provider figure", "chiffre ancien du fournisseur"),
    "b_none": ("no price", "aucun prix"),
    "peak": ("Peak sizing", "Dimensionnement pour la pointe"),
    "peak_text": (
        "Busiest minute of the 2021 campaign: {n} appointments per minute, that is about {gb} GB per hour or {mbps} Mbps through the load balancer at the load model's traffic per appointment.",
        "Minute la plus chargée de la campagne de 2021 : {n} rendez-vous par minute, soit environ {gb} Go par heure ou {mbps} Mbit/s à travers le répartiteur de charge, au trafic par rendez-vous retenu dans le modèle.",
    ),
    "assumptions": ("Load model (assumptions, not facts)", "Modèle de charge (hypothèses, pas des faits)"),
    "exit_volume": ("Data to move", "Données à transférer"),
    "exit_time": ("Time to move at {mbps} Mbit/s", "Durée du transfert à {mbps} Mbit/s"),
    "exit_egress": ("Egress cost of the move", "Coût de sortie du transfert"),
    "exit_keys": ("How keys are unwound", "Traitement des clés à la sortie"),
    "exit_contract": ("Reversibility commitments", "Engagements de réversibilité"),
    "exit_egress_range": (
        "{low} (switching charges banned from 12 January 2027) to {high} (today's rate)",
        "{low} (frais de changement interdits à partir du 12 janvier 2027) à {high} (tarif actuel)",
    ),
    "unknown": ("unknown", "inconnu"),
    "criterion": ("Criterion", "Critère"),
    "weight": ("Weight (given / used)", "Poids (indiqué / retenu)"),
    "why": ("Why this weight", "Pourquoi ce poids"),
    "score_total": ("Weighted score (0 to 100)", "Score pondéré (0 à 100)"),
    "cost_withheld": (
        "Cost is left out of the matrix and the other weights rescaled: not every option has a complete total on the common scope.",
        "Le coût est écarté de la matrice et les autres poids remis à l'échelle : toutes les options n'ont pas un total complet sur le périmètre commun.",
    ),
    "matrix_how": (
        "Scores run from 0 (worst) to 1 (best) on one scale; each is computed from the facts of this report, each fact feeding one criterion only. Weights come from the weights file, which a ministry can edit before re-running the comparison. Legal requirements are not averaged in: they are a gate.",
        "Les notes vont de 0 (le moins bon) à 1 (le meilleur) sur une seule échelle ; chacune est calculée à partir des faits de ce rapport, chaque fait n'alimentant qu'un critère. Les poids viennent du fichier des pondérations, que le ministère peut modifier avant de relancer la comparaison. Les exigences légales ne sont pas moyennées : elles conditionnent l'éligibilité.",
    ),
    "unkeyed": (
        "Data stores encrypted without a key of the environment (provider-managed)",
        "Magasins de données chiffrés sans clé de l'environnement (gérés par le fournisseur)",
    ),
    "key_store": ("Key store / operator", "Magasin de clés / opérateur"),
    "key": ("Key (where its material is held)", "Clé (lieu de conservation de sa matière)"),
    "store": ("Data store it protects", "Magasin qu'elle protège"),
    "category": ("Category", "Catégorie"),
    "retrieved": ("Retrieved", "Consulté le"),
    "full_report": (
        "The full report, with every source, accompanies this page",
        "Le rapport complet, avec toutes les sources, accompagne cette page",
    ),
    "option": ("Option", "Option"),
    "cost_range": ("Monthly cost at this load", "Coût mensuel à cette charge"),
    "matrix_score": ("Matrix score", "Score de la matrice"),
    "load": ("Load", "Charge"),
    "assumptions_line": (
        "{n} appointments per month; {kb} KB of traffic and {calls} key calls per appointment; {share} % of appointments upload a {dockb} KB document, kept {months} months; {logkb} KB of logs per appointment; {hours} hours per month; {p0} to {p1} peak hours per month; exit at {mbps} Mbit/s. Compute is priced at the environment's minimum size; the peak hours add the load balancer's capacity (options A and C) or the containers scaled out to their configured maximum (option B, which has no load balancer).",
        "{n} rendez-vous par mois ; {kb} Ko de trafic et {calls} appels de clé par rendez-vous ; {share} % des rendez-vous déposent un document de {dockb} Ko, conservé {months} mois ; {logkb} Ko de journaux par rendez-vous ; {hours} heures par mois ; de {p0} à {p1} heures de pointe par mois ; sortie à {mbps} Mbit/s. Le calcul est chiffré à la taille minimale de l'environnement ; les heures de pointe y ajoutent la capacité du répartiteur (options A et C) ou les conteneurs étendus jusqu'à leur maximum configuré (option B, sans répartiteur).",
    ),
    "missing_today": ("Missing today", "Manque aujourd'hui"),
    "this_repo": ("this project", "calcul du présent projet"),
    "lines_unpriced": ("lines not priced: {n}", "postes sans prix : {n}"),
    "scope_missing": (
        "{category}: no line in this option's bill",
        "{category} : aucun poste dans le devis de cette option",
    ),
    "unconverted": (
        "{n} lines in US dollars not converted: no dated exchange rate in the sources read",
        "{n} postes en dollars non convertis : aucun taux de change daté dans les sources lues",
    ),
    "established": ("Established on {date}", "Établi le {date}"),
    "load_line": (
        "load assumption: {n} appointments per month",
        "hypothèse de charge : {n} de rendez-vous par mois",
    ),
    "three_facts": ("Three facts to keep in mind", "Trois faits à retenir"),
    "s_decision": ("The decision asked", "La décision demandée"),
    "decision_asked": ("Decision asked", "Décision demandée"),
    "recommended": ("Recommendation", "Recommandation"),
    "fallback": ("Fallback", "Solution de repli"),
    "if_nothing": ("If nothing is decided", "À défaut de décision"),
    "if_nothing_none": (
        "no option may hold the platform's health data today ({states}); the gaps listed below stay open and nobody is commissioned to close them.",
        "aucune option ne peut aujourd'hui recevoir les données de santé de la plateforme ({states}) ; les manques relevés ci-dessous restent ouverts et personne n'est chargé de les combler.",
    ),
    "if_nothing_some": (
        "option(s) {yes} may hold the data today, but no contract or migration is commissioned ({states}).",
        "l'option ou les options {yes} peuvent recevoir les données dès aujourd'hui, mais aucun marché ni aucune migration n'est engagé ({states}).",
    ),
    "conditions": ("Conditions", "Conditions"),
    "recommended_line": (
        "{option}, answered “{answer}” today.",
        "{option}, réponse aujourd'hui : « {answer} ».",
    ),
    "s_answer": ("The answer per option", "La réponse par option"),
    "answer": ("Answer", "Réponse"),
    "why_missing": ("What is missing, or why not", "Ce qui manque, ou pourquoi non"),
    "who": ("Who must act", "Qui doit agir"),
    "when": ("When it could change", "Quand cela peut changer"),
    "no_date": ("no date in the sources read", "aucune date dans les sources lues"),
    "never_as_is": ("not as the provider stands", "pas en l'état du fournisseur"),
    "nothing_missing": ("nothing", "rien"),
    "yes": ("Yes", "Oui"),
    "not-yet": ("Not yet", "Pas encore"),
    "no": ("No", "Non"),
    "sensitive": (
        "This platform's data is of particular sensitivity under SREN art. 31 (DINUM's case-by-case test): {why}",
        "Les données de cette plateforme sont d'une sensibilité particulière au sens de l'art. 31 de la loi SREN (appréciation au cas par cas de la DINUM) : {why}",
    ),
    "not_sensitive": (
        "No criterion of DINUM's test is met: SREN art. 31 does not require a qualified offer for this data.",
        "Aucun critère de la grille de la DINUM n'est rempli : l'art. 31 de la loi SREN n'impose pas d'offre qualifiée pour ces données.",
    ),
    "actor_provider": ("the provider", "le fournisseur"),
    "actor_ministry": ("the ministry", "le ministère"),
    "actor_platform-team": ("the platform team", "l'équipe de la plateforme"),
    # Who must close a gap, after the gap itself ("(à la charge du fournisseur)").
    "owed_provider": ("for the provider", "à la charge du fournisseur"),
    "owed_ministry": ("for the ministry", "à la charge du ministère"),
    "owed_platform-team": ("for the platform team", "à la charge de l'équipe de la plateforme"),
    "gap_snc_excluded": (
        "{provider} is not SecNumCloud-qualified and cannot be as it stands: §19.6 of the référentiel requires a seat in the EU and caps non-EU ownership",
        "{provider} n'est pas qualifié SecNumCloud et ne peut l'être en l'état : le §19.6 du référentiel exige un siège dans l'Union et plafonne la détention hors Union",
    ),
    "gap_snc_in_progress": (
        "{provider}'s SecNumCloud qualification is under way, not granted",
        "la qualification SecNumCloud de {provider} est en cours, non obtenue",
    ),
    "gap_snc_unknown": (
        "{provider}'s SecNumCloud status is not established by the sources read",
        "le statut SecNumCloud de {provider} n'est pas établi par les sources lues",
    ),
    "gap_perimeter_unchecked": (
        "the qualified perimeter was not checked on the environment",
        "le périmètre qualifié n'a pas été vérifié sur l'environnement",
    ),
    "gap_perimeter": (
        "{n} resources of the environment lie outside the qualified perimeter",
        "{n} ressources de l'environnement sont hors du périmètre qualifié",
    ),
    "cond_perimeter_contract": (
        "the contract confirms each service used inside the qualified perimeter",
        "le contrat confirme chaque service utilisé dans le périmètre qualifié",
    ),
    "gap_hds_missing": (
        "no HDS certificate of {provider} for activities {activities} is recorded from the ANS list",
        "aucun certificat HDS de {provider} pour les activités {activities} n'est relevé sur la liste de l'ANS",
    ),
    "gap_hds_lost": (
        "{provider}'s HDS certificate is no longer valid (activities {activities} needed)",
        "le certificat HDS de {provider} n'est plus valide (activités {activities} nécessaires)",
    ),
    "gap_hds_activities": (
        "{provider}'s HDS certificate does not cover activities {activities}",
        "le certificat HDS de {provider} ne couvre pas les activités {activities}",
    ),
    "cond_hds_activities": (
        "the ANS list confirms that {provider}'s certificate covers activities {activities}",
        "la liste de l'ANS confirme que le certificat de {provider} couvre les activités {activities}",
    ),
    "gap_hds_scope_unknown": (
        "the HDS activities this option uses are not recorded",
        "les activités HDS utilisées par cette option ne sont pas consignées",
    ),
    "gap_not_audited": ("the environment was not audited", "l'environnement n'a pas été audité"),
    "gap_audit": ("the audit reports {n} mandatory findings", "l'audit relève {n} constats bloquants"),
    "s_requirements": ("Legal requirements", "Exigences légales"),
    "requirement": ("Requirement", "Exigence"),
    "compliant": ("Compliant", "Conforme"),
    "compliant-under-conditions": ("Compliant under conditions", "Conforme sous conditions"),
    "not-compliant": ("Not compliant", "Non conforme"),
    "s_exposures": ("Exposure to foreign law", "Exposition au droit étranger"),
    "law": ("Law", "Texte"),
    "exposed": ("Exposed", "Exposé"),
    "exposed-under-conditions": ("Exposed under conditions", "Exposé sous conditions"),
    "not-exposed": ("Not exposed", "Non exposé"),
    "exposure_how": (
        "An exposure is not a verdict on whether an access would be lawful: it says whether a foreign authority can reach the data, and under which condition.",
        "Une exposition ne préjuge pas de la licéité d'un accès : elle indique si une autorité étrangère peut atteindre les données, et à quelle condition.",
    ),
    "condition": ("Condition", "Condition"),
    "eligible": ("Eligible", "Éligible"),
    "not_eligible": (
        "Not eligible (answered no): score shown apart, not ranked",
        "non éligible (réponse « non ») : score présenté à part, hors classement",
    ),
    "ranking": ("Ranking of the eligible options", "Classement des options éligibles"),
    "none_yes": (
        "No option is answered yes today: the ranking compares options that could become lawful once their gaps are closed.",
        "Aucune option n'a aujourd'hui la réponse « oui » : le classement compare des options qui pourraient le devenir une fois leurs manques comblés.",
    ),
    "rank_n": ("{n}.", "{n}."),
    "exceptions": ("Recorded exceptions", "Exceptions enregistrées"),
    "findings": ("Mandatory findings", "Constats bloquants"),
    "resources": ("Resources", "Ressources"),
    "owner_expires": ("Owner, expiry", "Responsable, échéance"),
    "justification": ("Justification", "Justification"),
    "justification_fr": (
        "as written in the exceptions register (in English)",
        "telle que rédigée dans le registre des exceptions (en anglais)",
    ),
    "no_findings": (
        "No mandatory finding and no recorded exception.",
        "Aucun constat bloquant ni exception enregistrée.",
    ),
    "st_certified": ("certified", "certifié"),
    "st_qualified": ("qualified", "qualifié"),
    "st_in-progress": ("in progress", "en cours"),
    "st_unverified": ("not verified", "non vérifié"),
    "st_not-qualified": ("not qualified", "non qualifié"),
    "st_other": ("status not known to this report", "statut inconnu de ce rapport"),
    "ev_qualification-scope": (
        "the qualification's published scope",
        "périmètre publié de la qualification",
    ),
    "ev_provider-documentation": ("the provider's documentation", "documentation du fournisseur"),
    "computed": ("computed when this report was established", "établi avec le rapport"),
    "failover_line": (
        "Measured key-store failover: {failed} after one of two proxies was killed, longest gap {gap} ms, none over KMS's 250 ms timeout ({date}, indicative).",
        "Bascule mesurée du magasin de clés : {failed} après l'arrêt brutal de l'un des deux proxys, plus longue interruption {gap} ms, aucune au-delà du délai de 250 ms de KMS ({date}, à titre indicatif).",
    ),
    "cat_compute": ("compute", "calcul"),
    "cat_data": ("data", "données"),
    "cat_network": ("network", "réseau"),
    "cat_keys": ("keys", "clés"),
    "cat_logging": ("logging", "journalisation"),
    "cat_identity": ("identity", "identités"),
    "cat_staff": ("on-call staff", "personnel d'astreinte"),
    "cat_support": ("support", "assistance"),
    "cat_other": ("other", "autres"),
    "scope_note": (
        "An option with lines not priced shows “from” its priced part; no partial figure is set beside a complete total.",
        "Une option dont des postes sont sans prix est présentée « à partir de » sa part chiffrée ; aucun chiffre partiel n'est placé à côté d'un total complet.",
    ),
    "eur_note": (
        "Totals in euros; other currencies converted at the euro reference rates of {date}: {rates} per euro.",
        "Totaux en euros ; autres devises converties aux taux de référence de l'euro du {date} : {rates} pour un euro.",
    ),
    # The cost criterion while it is left out of the matrix (reporting/decision.py _costs_comparable):
    # said in the row itself and in a note naming the incomplete totals, never a silent "—".
    "cost_not_scored": ("not scored", "non noté"),
    "cost_incomplete_short": (
        "Cost is not scored, its {pct} % shared among the other criteria, until every option's total is complete (incomplete: {options}).",
        "Le coût n'est pas noté, ses {pct} % répartis sur les autres critères, tant que le total de chaque option n'est pas complet (incomplets : {options}).",
    ),
    "cost_incomplete": (
        "Incomplete totals: {options}. A partial total would favour the option with the most lines not priced, so cost is scored, with its weight of {pct} %, only once every option's total is complete.",
        "Totaux incomplets : {options}. Un total partiel avantagerait l'option qui a le plus de postes sans prix : le coût n'est donc noté, avec son poids de {pct} %, qu'une fois complet le total de chaque option.",
    ),
}

#: Institutions' own names in French, for the publisher of a cited source (an English page prints the
#: sources file's name as it is).
PUBLISHERS_FR: dict[str, str] = {
    "European Central Bank": "Banque centrale européenne",
    "Official Journal of the European Union": "Journal officiel de l'Union européenne",
}

#: Currency names for the conversion note, as a rate per euro reads in each language ("1.1684 US dollars",
#: "1,1684 dollar des États-Unis": French keeps the singular below two).
CURRENCY_NAMES: dict[str, tuple[str, str]] = {
    "USD": ("US dollars", "dollar des États-Unis"),
    "GBP": ("pounds sterling", "livre sterling"),
}


def ui(key: str, lang: str, **values: object) -> str:
    en, fr = UI[key]
    text = fr if lang == "fr" else en
    return text.format(**values) if values else text


#: Bill-of-materials item names are built from the preview in English (reporting/bom.py; product names
#: stay as the provider spells them); these phrases are translated for the French pages, longest first.
ITEM_PHRASES: tuple[tuple[str, str], ...] = (
    ("AWS Backup vault (database + documents)", "coffre AWS Backup (base et documents)"),
    ("ALB capacity units (processed bytes)", "unités de capacité ALB (octets traités)"),
    ("Object Storage documents (retained)", "documents Object Storage (conservés)"),
    ("Cloud Storage documents (retained)", "documents Cloud Storage (conservés)"),
    ("Load balancer forwarding rules", "règles de transfert du répartiteur de charge"),
    ("Load balancer data processed", "données traitées par le répartiteur de charge"),
    ("Flexible IPv4 addresses", "adresses IPv4 flexibles"),
    ("Public IPv4 (Elastic IPs", "adresses IPv4 publiques (adresses Elastic IP"),
    ("S3 documents (retained)", "documents S3 (conservés)"),
    ("CloudWatch Logs ingestion", "ingestion CloudWatch Logs"),
    ("Secrets Manager secrets", "secrets Secrets Manager"),
    ("Secret Manager secrets", "secrets Secret Manager"),
    ("Cockpit logs ingestion", "ingestion des journaux Cockpit"),
    ("(external key store)", "(magasin de clés externe)"),
    ("Cloud Logging ingestion", "ingestion Cloud Logging"),
    ("Cloud Armor policies", "règles de sécurité Cloud Armor"),
    ("Cloud KMS operations", "opérations Cloud KMS"),
    ("Key Manager requests", "requêtes Key Manager"),
    ("NAT data processed", "données traitées par les passerelles NAT"),
    ("(min instances)", "(nombre minimal d'instances)"),
    ("Managed PostgreSQL", "PostgreSQL géré"),
    ("Key Manager keys", "clés Key Manager"),
    ("Cloud KMS keys", "clés Cloud KMS"),
    ("Database volume", "volume de la base"),
    ("Key store host", "hôte du magasin de clés"),
    ("HA (regional)", "en haute disponibilité (régionale)"),
    ("Load Balancer", "répartiteur de charge"),
    ("(minScale)", "(nombre minimal d'instances)"),
    ("Public IPv4", "adresses IPv4 publiques"),
    ("NAT gateways", "passerelles NAT"),
    ("KMS requests", "requêtes KMS"),
    ("Container ", "conteneur "),
    ("KMS keys", "clés KMS"),
    (" storage ", " stockage "),
    (" subnets", " sous-réseaux"),
    (" groups", " groupes"),
    (" GB RAM", " Go de mémoire vive"),
    (" GiB", " Gio"),
    (" GB", " Go"),
    (" TB", " To"),
    (" HA", " en haute disponibilité"),
    ("(ALB, x", "(ALB, "),
)

#: Item patterns the phrases cannot say: the ALB named by its resource, the storage size after its name, and
#: the multiplication sign (U+00D7) for an English "x" ("2 x 0.5 vCPU", "NAT gateways x3").
ITEM_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^ALB (?=\S+$)"), "répartiteur de charge ALB "),
    (re.compile(r"^RDS (\S+) stockage "), r"stockage RDS \1 de "),
    (re.compile(r"^(volume de la base \S+) (?=\d)"), r"\1 de "),
    (re.compile(r"(?<=\d) x (?=\d)"), " \u00d7 "),
    (re.compile(r" x(?=\d)"), " \u00d7 "),
)

#: A decimal number as bom.py writes it ("0.25"), re-written by Babel in the French locale ("0,25").
_DECIMAL = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")


def item(text: str, lang: str) -> str:
    """A bill-of-materials item name in the page's language."""
    if lang != "fr":
        return text
    category, colon, rest = text.partition(": ")
    if colon and f"cat_{category}" in UI:
        # A line of a target without a priced bill: "compute: 2 Service" names resource kinds.
        return f"{UI[f'cat_{category}'][1]}\u00a0: {rest}"
    for english, french in ITEM_PHRASES:
        text = text.replace(english, french)
    for pattern, french in ITEM_PATTERNS:
        text = pattern.sub(french, text)
    return _DECIMAL.sub(lambda m: format_decimal(float(m.group()), locale="fr_FR"), text)


#: Key-custody phrases built from the preview in English (reporting/analysis.py), for the French pages.
CUSTODY_PHRASES: tuple[tuple[str, str], ...] = (
    (
        "French key custodian (XKS proxy + HSM in France)",
        "dépositaire français des clés (proxy XKS + HSM en France)",
    ),
    ("French key custodian; used by AWS KMS", "dépositaire français des clés, pour AWS KMS"),
    ("Container: application-level field encryption", "conteneur : chiffrement applicatif des champs"),
    ("Provider key service", "service de clés du fournisseur"),
    ("HSM in France", "HSM en France"),
    ("external key", "clé externe"),
    (" at https://", " à https://"),
)


def custody_text(text: str, lang: str) -> str:
    """A key-custody label in the page's language."""
    if lang != "fr":
        return text
    for english, french in CUSTODY_PHRASES:
        text = text.replace(english, french)
    return text
