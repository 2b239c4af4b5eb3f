"""Import rows into the database by natural key: created, updated, unchanged or rejected."""

import datetime as dt
from decimal import Decimal

import pytest

from accounts.models import Account, Contact, ExchangeRate, Lead, Opportunity, OwnershipChange
from ingestion import import_upsert, importing
from ingestion.import_jobs import import_labels
from ingestion.import_upsert import upsert_rows
from playbooks.models import Activity
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, OpportunityFactory

UTC = dt.UTC

# Their files hold amounts in euros.
pytestmark = pytest.mark.usefixtures("exchange_rates")


def run_import(kind: str, text: str, *, by, mapping=None, batch_size=None, progress=None):
    """(counts as a dict, {line: reason}) the way the job computes them."""
    parsed = importing.parse(text.encode(), kind, tz=UTC, mapping=mapping)
    counts, rejects = upsert_rows(
        kind=kind,
        rows=parsed.rows,
        by=by,
        batch_size=batch_size,
        progress=progress,
        labels=import_labels(parsed.mapping),
    )
    counts.rejected += len(parsed.rejects)
    reasons = {reject.line: reject.reason for reject in parsed.rejects + rejects}
    return counts.as_dict(), reasons


def counts(created=0, updated=0, unchanged=0, rejected=0) -> dict:
    return {"created": created, "updated": updated, "unchanged": unchanged, "rejected": rejected}


# --- Accounts -------------------------------------------------------------------------------

SALESFORCE_ACCOUNTS = (
    "Id,Account Name,Website,Industry,NumberOfEmployees,AnnualRevenue,BillingCountry,Owner,Tier\n"
    '001A,Acme,https://www.acme.com/,Software,"1,200","$12,500,000.00",Germany,alice,Tier 1\n'
    "001B,Société Générale,socgen.com,Banking,,,France,bob@example.com,T2\n"
    "001C,Gamma,gamma.io,,,,,,\n"
)


def test_it_creates_accounts_and_a_reimport_changes_nothing(maria, alice, bob):
    assert run_import("accounts", SALESFORCE_ACCOUNTS, by=maria) == (counts(created=3), {})

    acme = Account.objects.get(domain="acme.com")
    assert (acme.name, acme.external_id, acme.owner, acme.tier) == ("Acme", "001A", alice, 1)
    assert (acme.employees, acme.annual_revenue) == (1200, Decimal("12500000.00"))
    assert Account.objects.get(external_id="001B").owner == bob
    gamma = Account.objects.get(domain="gamma.io")
    assert (gamma.tier, gamma.owner, gamma.industry) == (None, None, "")
    stamps = dict(Account.objects.values_list("pk", "updated_at"))

    assert run_import("accounts", SALESFORCE_ACCOUNTS, by=maria) == (counts(unchanged=3), {})

    assert Account.objects.count() == 3
    assert dict(Account.objects.values_list("pk", "updated_at")) == stamps


def test_it_records_who_gave_an_account_its_owner(maria, alice, bob):
    run_import("accounts", "domain,name,owner\nacme.com,Acme,alice\n", by=maria)
    run_import("accounts", "domain,owner\nacme.com,BOB\n", by=maria)

    changes = OwnershipChange.objects.order_by("changed_at", "pk")
    assert [(c.previous_owner, c.new_owner, c.changed_by) for c in changes] == [
        (None, alice, maria),
        (alice, bob, maria),
    ]


def test_it_finds_an_account_by_its_normalised_domain_and_updates_only_what_differs(maria):
    account = AccountFactory(domain="acme.com", industry="Software", employees=10)

    result = run_import(
        "accounts", "Website,Industry,Employees\nhttp://WWW.Acme.com/contact,,250\n", by=maria
    )

    assert result == (counts(updated=1), {})
    account.refresh_from_db()
    # A blank cell leaves the stored value alone; it never wipes data.
    assert (account.industry, account.employees) == ("Software", 250)


def test_the_external_id_wins_over_the_domain_and_may_move_the_domain(maria):
    account = AccountFactory(domain="old.com", external_id="001A")

    result = run_import("accounts", "Id,Website\n001A,new.com\n", by=maria)

    assert result == (counts(updated=1), {})
    account.refresh_from_db()
    assert account.domain == "new.com"


def test_an_account_found_by_domain_gets_its_external_id(maria):
    account = AccountFactory(domain="acme.com", external_id=None)

    assert run_import("accounts", "Id,Website\n001A,acme.com\n", by=maria)[0] == counts(updated=1)

    account.refresh_from_db()
    assert account.external_id == "001A"


def test_keys_pointing_at_two_accounts_are_rejected(maria):
    AccountFactory(domain="one.com", external_id="001A", name="One")
    AccountFactory(domain="two.com", external_id="002B", name="Two")

    result = run_import("accounts", "Id,Website\n001A,two.com\n003C,one.com\n", by=maria)

    assert result == (
        counts(rejected=2),
        {
            2: "Website 'two.com' belongs to another account (Two)",
            3: "the account with Website 'one.com' has Id '001A', not '003C'",
        },
    )


def test_unknown_and_non_sales_owners_are_rejected_by_name(maria, alice):
    text = "domain,name,owner\na.com,A,zed@example.com\nb.com,B,maria\nc.com,C,Alice@Example.com\n"

    result = run_import("accounts", text, by=maria)

    assert result == (
        counts(created=1, rejected=2),
        {
            2: "unknown owner 'zed@example.com'",
            3: "owner 'maria' is a marketer, not a sales rep",
        },
    )
    assert Account.objects.get().owner == alice


def test_tier_none_clears_the_tier_but_a_blank_tier_keeps_it(maria):
    AccountFactory(domain="keep.com", tier=1)
    AccountFactory(domain="clear.com", tier=1)

    run_import("accounts", "domain,tier\nkeep.com,\nclear.com,none\n", by=maria)

    assert dict(Account.objects.values_list("domain", "tier")) == {
        "keep.com": 1,
        "clear.com": None,
    }


def test_a_duplicate_key_in_the_file_is_rejected_and_the_first_row_wins(maria):
    text = (
        "name,domain,industry\n"
        "Acme,acme.com,Software\n"
        "Acme Again,https://www.acme.com,Retail\n"
        "Beta,beta.io,-\n"
    )

    result = run_import("accounts", text, by=maria)

    assert result == (
        counts(created=2, rejected=1),
        {3: "duplicate of line 2 (same domain 'acme.com')"},
    )
    assert Account.objects.get(domain="acme.com").industry == "Software"


def test_a_rejected_row_does_not_block_a_later_row_with_the_same_key(maria):
    text = "name,domain,owner\nAcme,acme.com,nobody\nAcme,acme.com,\n"

    result = run_import("accounts", text, by=maria)

    assert result == (counts(created=1, rejected=1), {2: "unknown owner 'nobody'"})


def test_a_new_account_needs_a_name_and_a_domain(maria):
    result = run_import("accounts", "Id,Website,Industry\n001A,,Software\n002B,b.com,\n", by=maria)

    assert result == (
        counts(rejected=2),
        {
            2: "name and Website are required to create an account",
            3: "name is required to create an account",
        },
    )


def test_formula_text_is_stored_as_is(maria):
    run_import("accounts", 'name,domain\n"=HYPERLINK(""http://x"",""y"")",x.com\n', by=maria)

    assert Account.objects.get().name == '=HYPERLINK("http://x","y")'


def test_cp1252_names_arrive_intact(maria):
    data = "name;domain;country\nSociété Générale;socgen.com;Zürich\n".encode("cp1252")
    parsed = importing.parse(data, "accounts", tz=UTC)

    upsert_rows(kind="accounts", rows=parsed.rows, by=maria)

    assert Account.objects.values_list("name", "country").get() == ("Société Générale", "Zürich")


# --- Contacts -------------------------------------------------------------------------------


def test_contacts_find_their_account_by_domain_id_or_name_and_reimport_changes_nothing(maria):
    acme = AccountFactory(domain="acme.com", name="Acme")
    beta = AccountFactory(domain="beta.io", name="Beta", external_id="001B")
    text = (
        "First Name,Last Name,Email,Title,Company Domain Name,AccountId,Account Name\n"
        "Ada,Lovelace,ADA@Acme.com,Chief Technology Officer,www.acme.com,,\n"
        "Bob,Builder,bob@beta.io,VP Sales,,001B,\n"
        "Cy,Clone,cy@beta.io,Analyst,,,beta\n"
    )

    assert run_import("contacts", text, by=maria) == (counts(created=3), {})

    ada = Contact.objects.get(email="ada@acme.com")
    assert (ada.account, ada.seniority, ada.buying_role) == (acme, "c_level", "unknown")
    assert Contact.objects.get(email="bob@beta.io").account == beta
    assert Contact.objects.get(email="cy@beta.io").seniority == "other"
    assert run_import("contacts", text, by=maria) == (counts(unchanged=3), {})


def test_an_email_is_unique_per_account_not_across_accounts(maria):
    AccountFactory(domain="acme.com")
    AccountFactory(domain="beta.io")
    text = (
        "first_name,email,account_domain,title\n"
        "Ada,ada@gmail.com,acme.com,CEO\n"
        "Ada,ada@gmail.com,beta.io,CEO\n"
        "Ada,Ada@Gmail.com,acme.com,CTO\n"
    )

    result = run_import("contacts", text, by=maria)

    assert result == (
        counts(created=2, rejected=1),
        {4: "duplicate of line 2 (same email 'ada@gmail.com')"},
    )


def test_a_contact_is_updated_by_email_at_its_account(maria):
    contact = ContactFactory(
        account__domain="acme.com", email="ada@acme.com", title="Engineer", seniority="manager"
    )

    result = run_import(
        "contacts", "email,account_domain,title\nada@acme.com,acme.com,CTO\n", by=maria
    )

    assert result == (counts(updated=1), {})
    contact.refresh_from_db()
    # The title changed; the seniority is only guessed from it for new contacts.
    assert (contact.title, contact.seniority) == ("CTO", "manager")


def test_contacts_of_unknown_or_ambiguous_accounts_are_rejected(maria):
    AccountFactory(name="Twin", domain="twin-one.com")
    AccountFactory(name="Twin", domain="twin-two.com")
    text = (
        "first_name,email,account_domain,account_name\n"
        "Ada,ada@nope.com,nope.com,\n"
        "Bo,bo@twin.com,,twin\n"
        "Cy,,twin-one.com,\n"
    )

    result = run_import("contacts", text, by=maria)

    assert result == (
        counts(rejected=3),
        {
            2: "unknown account (account_domain 'nope.com')",
            3: "account_name 'twin' matches 2 accounts; add an account domain or account id column",
            4: "email is required to create a contact",
        },
    )


# --- Opportunities --------------------------------------------------------------------------

OPPORTUNITIES = (
    "Id,AccountId,Opportunity Name,Amount,StageName,CreatedDate,CloseDate,LeadSource\n"
    'OPP-1,001A,Acme - Platform,"$50,000.00",Prospecting,2025-01-10 09:00,2025-06-30,Web\n'
    "OPP-2,001A,Acme - Expansion,1.234,50 €,Closed Won,2025-02-01,2025-03-15,Partner Referral\n"
    "OPP-3,001A,Acme - Lost,100,closed-lost,2025-02-01 14:00,2025-02-01,Other\n"
)


def test_opportunities_upsert_by_external_id_with_their_stage_history(maria):
    AccountFactory(domain="acme.com", external_id="001A")
    text = OPPORTUNITIES.replace("1.234,50 €", '"1.234,50 €"')

    assert run_import("opportunities", text, by=maria) == (counts(created=3), {})

    platform, expansion, lost = Opportunity.objects.order_by("external_id")
    assert (platform.stage, platform.amount, platform.source) == (
        "qualification",
        Decimal("50000.00"),
        "marketing",
    )
    assert (platform.closed_at, platform.close_date) == (None, dt.date(2025, 6, 30))
    # "1.234,50 €" converts at the EUR rate in force when the deal was created (2025-02-01).
    eur = ExchangeRate.objects.filter(currency="EUR", date__lte=dt.date(2025, 2, 1)).first()
    assert (expansion.stage, expansion.source) == ("closed_won", "partner")
    assert (expansion.amount_original, expansion.amount_currency) == (Decimal("1234.50"), "EUR")
    assert expansion.amount == (Decimal("1234.50") * eur.usd_per_unit).quantize(Decimal("0.01"))
    assert (platform.amount_original, platform.amount_currency) == (None, "")
    assert expansion.closed_at == dt.datetime(2025, 3, 15, tzinfo=UTC)
    # Created and closed the same day: it closed no earlier than it was created.
    assert lost.closed_at == lost.created_at == dt.datetime(2025, 2, 1, 14, tzinfo=UTC)
    assert [(c.from_stage, c.to_stage, c.changed_at) for c in platform.stage_changes.all()] == [
        ("", "qualification", dt.datetime(2025, 1, 10, 9, tzinfo=UTC))
    ]
    assert [(c.from_stage, c.to_stage) for c in expansion.stage_changes.all()] == [
        ("", "closed_won")
    ]

    assert run_import("opportunities", text, by=maria) == (counts(unchanged=3), {})
    assert platform.stage_changes.count() == 1


def test_a_stage_change_on_reimport_updates_and_is_kept_in_the_history(maria):
    opportunity = OpportunityFactory(
        external_id="OPP-1",
        stage="proposal",
        created_at=dt.datetime(2025, 1, 1, tzinfo=UTC),
    )

    result = run_import(
        "opportunities", "Id,Stage,CloseDate\nOPP-1,Closed Won,2025-04-01\n", by=maria
    )

    assert result == (counts(updated=1), {})
    opportunity.refresh_from_db()
    assert (opportunity.stage, opportunity.closed_at) == (
        "closed_won",
        dt.datetime(2025, 4, 1, tzinfo=UTC),
    )
    assert [(c.from_stage, c.to_stage) for c in opportunity.stage_changes.all()] == [
        ("proposal", "closed_won")
    ]


def test_bad_opportunity_rows_say_why(maria):
    AccountFactory(domain="acme.com")
    text = (
        "external_id,account_domain,name,amount,stage,created_at,close_date\n"
        "O1,acme.com,A,100,won-ish,2025-01-01,\n"
        "O2,acme.com,B,-100,proposal,2025-01-01,\n"
        "O3,acme.com,C,100,closed_won,2025-03-01,2025-02-01\n"
        "O4,acme.com,D,100,closed_lost,2025-03-01,\n"
        ",acme.com,E,100,proposal,2025-03-01,\n"
        "O6,acme.com,F,100,proposal,,\n"
        "O7,acme.com,G,100,proposal,31/31/2025,\n"
        "O8,acme.com,H,100,proposal,2025-01-01,\n"
    )

    result = run_import("opportunities", text, by=maria)

    assert result == (
        counts(created=1, rejected=7),
        {
            2: "unknown stage 'won-ish' (expected one of qualification, discovery, proposal, "
            "negotiation, closed_won, closed_lost)",
            3: "amount '-100' must not be negative",
            4: "close_date 2025-02-01 is before created_at 2025-03-01",
            5: "stage 'closed_lost' is closed but there is no close_date or closed_at",
            6: "external_id is required: it is how a re-import finds an opportunity",
            7: "created_at is required to create an opportunity",
            8: "created_at '31/31/2025' is not a date (this column reads month/day/year)",
        },
    )


# --- Leads ----------------------------------------------------------------------------------


def test_leads_link_their_contact_and_refuse_a_follow_up_before_the_hand_off(maria):
    contact = ContactFactory(account__domain="acme.com", email="ada@acme.com")
    text = (
        "Lead ID,Company Domain Name,Email,Lead Source,Handed Off At,First Follow Up,Status\n"
        "L1,acme.com,ADA@acme.com,Webinar,2025-03-01 10:00,2025-03-02 09:00,Working - Contacted\n"
        "L2,acme.com,,Events,2025-03-01 10:00,2025-02-28,New\n"
        "L3,acme.com,ghost@acme.com,Webinar,2025-03-01 10:00,,New\n"
    )

    result = run_import("leads", text, by=maria)

    assert result == (
        counts(created=1, rejected=2),
        {
            3: "First Follow Up 2025-02-28T00:00:00+00:00 is before "
            "handed_off_at 2025-03-01T10:00:00+00:00",
            4: "unknown contact 'ghost@acme.com' at this account",
        },
    )
    lead = Lead.objects.get()
    assert (lead.contact, lead.source_channel, lead.status) == (contact, "webinar", "working")
    assert run_import("leads", text, by=maria)[0] == counts(unchanged=1, rejected=2)


# --- Activities -----------------------------------------------------------------------------


def test_activities_upsert_by_import_external_id_and_reimport_changes_nothing(maria):
    account = AccountFactory(domain="acme.com")
    ContactFactory(account=account, email="ada@acme.com")
    # The same external id from another source is another activity.
    ActivityFactory(account=account, source="api", external_id="A1")
    text = (
        "Activity ID,Company Domain Name,Contact Email,Channel,Type,Date,Cost\n"
        "A1,acme.com,ada@acme.com,E-mail,Email opened,2025-03-01 10:00,\n"
        "A2,acme.com,,Direct mail,direct_mail_sent,2025-03-02,$40\n"
        "A3,acme.com,,Webinar,Webinar attended,2025-03-03,\n"
    )

    assert run_import("activities", text, by=maria) == (counts(created=3), {})

    imported = Activity.objects.filter(source="import").order_by("external_id")
    assert [(a.external_id, a.kind, a.direction, a.cost) for a in imported] == [
        ("A1", "email_open", "inbound", Decimal("0")),
        ("A2", "direct_mail_sent", "outbound", Decimal("40.00")),
        ("A3", "webinar_attended", "inbound", Decimal("0")),
    ]
    assert imported[0].contact.email == "ada@acme.com"
    assert run_import("activities", text, by=maria) == (counts(unchanged=3), {})
    assert Activity.objects.count() == 4


def test_an_activity_of_an_unknown_account_or_contact_is_rejected(maria):
    AccountFactory(domain="acme.com")
    text = (
        "external_id,account_domain,contact_email,channel,kind,occurred_at\n"
        "A1,nope.com,,email,email_open,2025-03-01\n"
        "A2,acme.com,ghost@acme.com,email,email_open,2025-03-01\n"
        "A3,acme.com,,carrier pigeon,email_open,2025-03-01\n"
    )

    _, reasons = run_import("activities", text, by=maria)

    assert reasons == {
        2: "unknown account (account_domain 'nope.com')",
        3: "unknown contact 'ghost@acme.com' at this account",
        4: "unknown channel 'carrier pigeon' (expected one of email, linkedin, paid_social, "
        "display, direct_mail, event, webinar, phone, sdr_outreach, content, "
        "web_personalisation)",
    }


def test_rows_are_written_in_batches_with_progress_between_them(maria):
    AccountFactory(domain="acme.com")
    lines = [f"A{n},acme.com,email,email_click,2025-03-01" for n in range(5)]
    text = "external_id,account_domain,channel,kind,occurred_at\n" + "\n".join(lines) + "\n"
    seen = []

    result = run_import(
        "activities", text, by=maria, batch_size=2, progress=lambda done, total: seen.append(done)
    )

    assert result == (counts(created=5), {})
    assert seen == [2, 4, 5]


def test_a_duplicate_in_a_later_batch_is_still_a_duplicate(maria):
    AccountFactory(domain="acme.com")
    text = (
        "external_id,account_domain,channel,kind,occurred_at\n"
        "A1,acme.com,email,email_click,2025-03-01\n"
        "A2,acme.com,email,email_click,2025-03-01\n"
        "A1,acme.com,email,email_reply,2025-03-02\n"
    )

    result = run_import("activities", text, by=maria, batch_size=2)

    assert result == (
        counts(created=2, rejected=1),
        {4: "duplicate of line 2 (same external_id 'A1')"},
    )
    assert Activity.objects.get(external_id="A1").kind == "email_click"


def test_a_row_written_meanwhile_by_someone_else_is_found_on_retry(maria, monkeypatch):
    """A concurrent import committed the same key between our read and our write."""
    AccountFactory(domain="acme.com", name="Acme (theirs)")
    original = import_upsert.AccountWriter.prepare
    calls = []

    def prepare_too_early(self, batch):
        original(self, batch)
        if not calls:  # the first read happened before their commit
            self.by_domain, self.by_external_id = {}, {}
        calls.append(len(batch))

    monkeypatch.setattr(import_upsert.AccountWriter, "prepare", prepare_too_early)

    result = run_import("accounts", "name,domain\nAcme,acme.com\nBeta,beta.io\n", by=maria)

    # The batch failed on the unique domain and was redone row by row: nothing lost.
    assert calls == [2, 1, 1]
    assert result == (counts(created=1, updated=1), {})
    assert dict(Account.objects.values_list("domain", "name")) == {
        "acme.com": "Acme",
        "beta.io": "Beta",
    }


@pytest.mark.parametrize("kind", ["accounts", "contacts", "opportunities", "leads", "activities"])
def test_an_empty_file_of_any_kind_imports_nothing(kind, maria):
    header = {
        "accounts": "domain,name",
        "contacts": "external_id,email",
        "opportunities": "external_id,name",
        "leads": "external_id,status",
        "activities": "external_id,account_domain,channel,kind,occurred_at",
    }[kind]

    assert run_import(kind, header + "\n", by=maria) == (counts(), {})


def test_activity_notes_survive_the_bulk_path_byte_for_byte(maria):
    """On PostgreSQL new activities are COPYed: tabs, newlines, backslashes and \\N stay text."""
    AccountFactory(domain="acme.com")
    notes = ["tab\there", "two\nlines", "back\\slash", "\\N", "=1+1", "Zürich “quoted”", "\\\\N"]
    cells = "\n".join(
        f'A{n},acme.com,email,email_click,2025-03-01,"{note}"' for n, note in enumerate(notes)
    )
    text = "external_id,account_domain,channel,kind,occurred_at,notes\n" + cells + "\n"

    assert run_import("activities", text, by=maria)[0] == counts(created=len(notes))

    stored = dict(Activity.objects.values_list("external_id", "notes"))
    assert [stored[f"A{n}"] for n in range(len(notes))] == notes
    assert run_import("activities", text, by=maria)[0] == counts(unchanged=len(notes))


def test_activities_written_meanwhile_by_someone_else_are_found_on_retry(maria, monkeypatch):
    account = AccountFactory(domain="acme.com")
    ActivityFactory(account=account, source="import", external_id="A1", kind="email_open")
    original = import_upsert.ActivityWriter.prepare
    calls = []

    def prepare_too_early(self, batch):
        original(self, batch)
        if not calls:
            self.by_external_id = {}
        calls.append(len(batch))

    monkeypatch.setattr(import_upsert.ActivityWriter, "prepare", prepare_too_early)
    text = (
        "external_id,account_domain,channel,kind,occurred_at\n"
        "A1,acme.com,email,email_click,2025-03-01\n"
        "A2,acme.com,email,email_click,2025-03-01\n"
    )

    result = run_import("activities", text, by=maria)

    assert calls == [2, 1, 1]
    assert result == (counts(created=1, updated=1), {})
    assert dict(Activity.objects.values_list("external_id", "kind")) == {
        "A1": "email_click",
        "A2": "email_click",
    }
