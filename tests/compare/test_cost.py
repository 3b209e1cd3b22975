"""Cost arithmetic on hand-checked cases: bills, support tiers, ranges, withheld totals, precision."""

from __future__ import annotations

from pydantic import ValidationError

from reporting.bom import Assumptions, Quantity
from reporting.cost import CostRange, RangeLine, bill_range_lines, price_bill, support_charge, unit_detail
from reporting.facts import ExchangeRate, Facts, Price, PriceBook, Uplift
from reporting.model import Report, scope_gaps
from reporting.render import money, money_range


def price(key: str, value: float | None, free: float = 0.0) -> Price:
    return Price(
        key=key,
        price=value,
        unit="unit",
        basis="provider",
        source="project-cost-model",
        url="reporting/cost.py",
        retrieved="generated with the report",
        free_per_month=free,
    )


def test_hand_checked_bill() -> None:
    book = PriceBook(
        provider="test",
        region="here",
        currency="EUR",
        prices={
            "cpu": price("cpu", 0.00001, free=200_000),
            "req": price("req", 0.03, free=20_000),
            "db": price("db", None),
        },
    )
    quantities = [
        Quantity("compute", "a", 150_000, "vCPU-s", "cpu", ""),  # inside the free tier
        Quantity("compute", "b", 150_000, "vCPU-s", "cpu", ""),  # 100,000 left over x 0.00001 = 1.00
        Quantity("keys", "kms", 1_000, "10k requests", "req", ""),  # (1,000 - 2 free) x 0.03 = 29.94
        Quantity("data", "db", 2, "node-months", "db", ""),  # not priced
        Quantity("data", "x", 1, "things", "absent-key", ""),  # not in the file: not priced
    ]
    bill = price_bill("s", quantities, book)
    assert [line.amount for line in bill.lines] == [0.0, 1.0, 29.94, None, None]
    assert bill.total == 30.94
    assert len(bill.unpriced) == 2


def test_support_tiers_match_the_providers_worked_example() -> None:
    tiers = ((10_000.0, 0.10), (80_000.0, 0.07), (250_000.0, 0.05), (None, 0.03))
    assert support_charge(85_000, 100, tiers) == 6_150.0  # AWS's own example on its pricing page
    assert support_charge(500, 100, tiers) == 100.0  # the minimum applies


def line(currency: str, low: float | None, high: float | None, material: bool = True) -> RangeLine:
    return RangeLine("x", "data", currency, low, high, "provider", ("project-cost-model",), material)


def test_currencies_are_never_added_and_material_gaps_withhold_the_total() -> None:
    cost = CostRange([line("USD", 10, 20), line("EUR", 1, 2), line("EUR", 3, 3)])
    assert cost.totals() == {"USD": (10, 20), "EUR": (4, 5)}
    assert cost.complete
    cost.lines.append(line("EUR", None, None, material=False))
    assert cost.complete
    cost.lines.append(line("EUR", None, None, material=True))
    assert not cost.complete and len(cost.material_unpriced) == 1


def test_unit_prices_keep_their_real_precision() -> None:
    assert unit_detail(1460, "GB-hours", 0.00356, "GB-hour") == "1,460.00 GB-hours x 0.00356 / GB-hour"
    assert unit_detail(2, "x", 0.000001, "GB-second").endswith("0.000001 / GB-second")


def test_money_in_both_languages() -> None:
    assert money(1234.5, "USD") == "US$1,234.50"
    assert money(1234.5, "EUR") == "€1,234.50"
    # French administrative typography through Babel's fr_FR locale: 1 460,00 €.
    assert money(1460, "EUR", "fr") == "1\u202f460,00\u00a0€"
    assert money_range(None, None, "EUR", "fr") == "sans prix"


def test_report_lines_multiply_out(report: Report) -> None:
    """Every priced bill line equals quantity x unit price (rounded to the cent)."""
    for column in report.columns:
        for bill in column.bills:
            for bill_line in bill.lines:
                if bill_line.amount is not None and bill_line.price.price is not None:
                    assert bill_line.amount == round(bill_line.billable * bill_line.price.price, 2)


def test_egress_is_priced_from_the_reports_own_traffic(report: Report) -> None:
    a = Assumptions()
    assert round(a.egress_gb) == 2384  # 5 M appointments x 500 KB
    option_a = next(c for c in report.columns if c.key == "A")
    egress = next(r for r in option_a.cost.lines if str(r.label).startswith("en='Internet egress"))
    assert egress.low == round((a.egress_gb - 100) * 0.09, 2)


def test_no_option_shows_a_total_while_a_material_line_is_unpriced(report: Report) -> None:
    for column in report.columns:
        if column.cost.material_unpriced:
            assert not column.cost.complete


def test_euros_throughout_and_a_currency_without_a_sourced_rate_is_a_floor() -> None:
    cost = CostRange([line("USD", 10, 20), line("EUR", 1, 2)])
    floor = cost.in_eur({"USD": None})
    assert (floor.low, floor.high, floor.unconverted, floor.complete) == (1, 2, 1, False)
    rate = ExchangeRate(per_eur=1.25, date="2026-12-04", sources=("project-cost-model",))
    total = cost.in_eur({"USD": rate})
    assert (total.low, total.high, total.unconverted, total.complete) == (9.0, 18.0, 0, True)
    assert not CostRange([line("GBP", 1, 1)]).in_eur({}).complete  # a currency with no entry at all


def test_an_option_missing_a_scope_category_gets_a_not_priced_line() -> None:
    cost = CostRange([line("EUR", 1, 1)])  # only "data"
    added = scope_gaps(cost, ("data", "staff"))
    assert [(g.category, g.priced, g.material) for g in added] == [("staff", False, True)]
    cost.lines += added
    assert not cost.in_eur({}).complete


def test_every_option_is_costed_on_the_common_scope(report: Report) -> None:
    for column in report.columns:
        assert set(report.facts.scope) <= {line.category for line in column.cost.lines}, column.key
        oncall = [line for line in column.cost.lines if line.category == "staff"]
        assert oncall, f"option {column.key} carries no on-call staff"


def test_no_option_shows_a_euro_total_while_a_line_is_missing(report: Report) -> None:
    for column in report.columns:
        total = column.cost.in_eur(report.facts.exchange_rates)
        assert total.complete == (column.cost.complete and total.unconverted == 0)


def test_a_figure_for_a_replaced_offer_is_listed_but_not_priced(report: Report) -> None:
    for column in report.columns:
        for bill in column.bills:
            for bill_line in bill.lines:
                if bill_line.price.basis == "outdated":
                    assert bill_line.amount is None, bill_line.quantity.item
        for range_line in column.cost.lines:
            if range_line.basis == "outdated":
                assert not range_line.priced
    outdated = [
        bill_line
        for column in report.columns
        for bill in column.bills
        for bill_line in bill.lines
        if bill_line.price.basis == "outdated"
    ]
    assert outdated, "the shipped price files hold a pre-2020 Scaleway Load Balancer figure"


def test_usd_lines_are_converted_at_the_ecbs_dated_reference_rate(
    report: Report, pages: dict[str, tuple[str, list[str]]]
) -> None:
    rate = report.facts.exchange_rates["USD"]
    assert rate is not None, "a dated USD rate is recorded in data/prices/ownership.yaml"
    assert {report.facts.sources[s].publisher for s in rate.sources} == {"European Central Bank"}
    option_a = next(c for c in report.columns if c.key == "A")
    usd = [line for line in option_a.cost.lines if line.currency == "USD" and line.priced]
    assert usd, "option A carries priced USD lines"
    converted = option_a.cost.in_eur(report.facts.exchange_rates)
    floor = option_a.cost.in_eur({**report.facts.exchange_rates, "USD": None})
    assert converted.unconverted == 0 and floor.unconverted == len(usd)
    expected = floor.low + sum(line.low or 0.0 for line in usd) / rate.per_eur
    assert abs(converted.low - expected) < 0.01 * len(usd)
    # The rate and its date are printed beside the euro figures, in each language's own format.
    assert (
        "reference rates of 13 April 2026: 0.87058 pounds sterling, 1.1684 US dollars per euro"
        in pages["summary"][0]
    )
    assert (
        "taux de référence de l'euro du 13 avril 2026\u00a0: 0,87058 livre sterling, 1,1684 dollar des États-Unis pour un euro"
        in pages["summary.fr"][0]
    )


def test_a_range_from_analogues_spans_quantity_times_each_end() -> None:
    """An 'analogue' price prices its line from quantity x low end to quantity x high end, never
    through the regional uplift; a range without that basis, or a single figure with it, is refused."""
    ranged = Price(
        key="r",
        price=0.03,
        high=0.05,
        unit="unit",
        basis="analogue",
        source="project-cost-model",
        url="reporting/cost.py",
        retrieved="generated with the report",
    )
    book = PriceBook(provider="t", region="here", currency="USD", prices={"r": ranged})
    bill = price_bill("s", [Quantity("compute", "x", 100, "hours", "r", "")], book)
    (line,) = bill_range_lines(bill, Uplift(factor=1.3, sources=("project-cost-model",)))
    assert (line.low, line.high, line.basis) == (3.0, 5.0, "analogue")
    assert line.figures == ((100, 0.03), (100, 0.05))
    for bad in ({"basis": "other-region"}, {"high": None}, {"high": 0.01}):
        try:
            Price.model_validate({**ranged.model_dump(), **bad})
        except ValidationError:
            continue
        raise AssertionError(f"accepted a malformed range: {bad}")


def test_aws_paris_lines_use_paris_or_analogue_prices(facts: Facts) -> None:
    """Fargate ARM and RDS db.m6g.large have no eu-west-3 figure: each is a sourced range whose high end
    is a Paris or European figure, not a us-east-1 figure widened by a rule of thumb; NAT, logs and
    backup are Paris figures read from AWS's eu-west-3 offer files."""
    book = facts.prices["aws"]
    for key in ("fargate-arm-vcpu-hour", "fargate-arm-gb-hour", "rds-instance-hour:db.m6g.large"):
        price = book.prices[key]
        assert price.basis == "analogue" and price.high is not None and price.price is not None, key
        assert price.high > price.price, key
    for key in ("nat-hour", "nat-gb", "logs-ingest-gb", "backup-gb-month"):
        assert book.prices[key].basis == "third-party", key
        assert "aws-paris-offer-files-2026-10" in book.prices[key].sources, key
    assert "fgcalc-fargate-regions" in book.prices["fargate-arm-vcpu-hour"].sources


def test_option_c_is_priced_from_its_own_resources_at_analogue_prices(report: Report) -> None:
    """S3NS publishes no prices: each line of C's bill comes from its preview (Cloud Run minimum
    instances, Cloud SQL tier and disk, KMS keys per protection level) and is priced at a Google Cloud
    analogue or listed as not priced; C is never shown with a total while its support is unpriced."""
    c = next(col for col in report.columns if col.key == "C")
    items = {line.quantity.item: line for bill in c.bills for line in bill.lines}
    sql_ram = next(line for item, line in items.items() if item.startswith("Cloud SQL") and "RAM" in item)
    assert sql_ram.quantity.quantity == 8 * 730 and sql_ram.price.basis == "analogue"
    assert sql_ram.amount == round(8 * 730 * 0.0162, 2)
    kms = next(line for item, line in items.items() if item.startswith("Cloud KMS keys"))
    assert kms.quantity.price_key == "kms-key-version-month:SOFTWARE" and kms.quantity.quantity == 5
    memory = [line for item, line in items.items() if item.startswith("Cloud Run") and "GiB" in item]
    assert memory and all(not line.priced for line in memory)
    assert not c.cost.in_eur(report.facts.exchange_rates).complete


def test_option_b_peak_follows_the_containers_configured_maximum(report: Report) -> None:
    """B has no load balancer: its peak line is the extra container instances (maxScale - minScale) for
    the load model's peak hours, at Scaleway's per-second prices; raising maxScale raises it."""
    import copy

    from reporting.bom import option_quantities

    b = next(col for col in report.columns if col.key == "B")
    assert b.option is not None
    before = option_quantities(b.option, Assumptions())["peak_container_vcpu_s"]
    assert before[0] == 0.0 and before[1] > 0.0
    option = copy.deepcopy(b.option)  # the shipped report is shared by other tests
    containers = option.of_type("scaleway:containers/container:Container")
    for container in containers:
        container["inputs"]["maxScale"] = float(container["inputs"]["maxScale"]) + 1
    after = option_quantities(option, Assumptions())["peak_container_vcpu_s"]
    added = sum(float(c["inputs"].get("cpuLimit", 1000)) / 1000 for c in containers) * 3600 * 10
    assert after[1] == before[1] + added
    peak = [line for line in b.cost.lines if "Peak capacity" in str(line.label)]
    assert peak and all(line.priced and line.low == 0.0 for line in peak)


def test_option_c_says_how_it_is_priced(pages: dict[str, tuple[str, list[str]]]) -> None:
    """Analogue prices are never passed off as S3NS's own: C's bill opens with the statement, cited."""
    assert "list price for Paris (europe-west9), the nearest analogue" in pages["compare"][0]
    assert "prix catalogue de Google Cloud pour Paris (europe-west9)" in pages["compare.fr"][0]


def test_each_unpriced_line_is_named_apart(report: Report) -> None:
    """Two lines of one option never read alike (the key store's two load balancers, one per zone,
    were both "Load Balancer LB-S")."""
    for column in report.columns:
        labels = [str(getattr(line.label, "en", line.label)) for line in column.cost.material_unpriced]
        assert len(set(labels)) == len(labels), (column.key, labels)
