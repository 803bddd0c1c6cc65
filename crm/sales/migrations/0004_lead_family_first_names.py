"""Leads whose name was composed from a Chinese, Japanese or Korean first and last name, given name
first ("小明 王"), are named as contacts are ("王小明"); a name someone typed differently is kept."""

from django.db import migrations

SCRIPT = "[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]"


def _composed_the_old_way(Lead):
    leads = Lead.objects.filter(first_name__regex=SCRIPT, last_name__regex=SCRIPT).only(
        "pk", "first_name", "last_name", "name"
    )
    for lead in leads.order_by("pk").iterator(chunk_size=2000):
        if lead.name == f"{lead.first_name} {lead.last_name}":
            yield lead


def rename(apps, schema_editor):
    from crm.customers.models.contacts import compose_contact_name

    Lead = apps.get_model("sales", "Lead")
    changed = []
    for lead in _composed_the_old_way(Lead):
        name = compose_contact_name("", lead.first_name, lead.last_name)
        if name != lead.name:
            lead.name = name
            changed.append(lead)
    Lead.objects.bulk_update(changed, ["name"], batch_size=1000)


def rename_back(apps, schema_editor):
    """Given name first again, for the names this migration composed."""
    from crm.customers.models.contacts import compose_contact_name

    Lead = apps.get_model("sales", "Lead")
    leads = Lead.objects.filter(first_name__regex=SCRIPT, last_name__regex=SCRIPT).only(
        "pk", "first_name", "last_name", "name"
    )
    changed = []
    for lead in leads.order_by("pk").iterator(chunk_size=2000):
        if lead.name == compose_contact_name("", lead.first_name, lead.last_name):
            lead.name = f"{lead.first_name} {lead.last_name}"
            changed.append(lead)
    Lead.objects.bulk_update(changed, ["name"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("sales", "0003_remove_lead_lead_phone_idx_alter_lead_phone_and_more")]

    operations = [migrations.RunPython(rename, rename_back, elidable=True)]
