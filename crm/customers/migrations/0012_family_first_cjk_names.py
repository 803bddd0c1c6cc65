"""Contacts entered with a Chinese, Japanese or Korean first and last name were named given name
first with a space ("小明 王"); they are named as such names are written ("王小明")."""

from django.db import migrations

SCRIPT = "[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\U00020000-\U0002fa1f]"


def _candidates(model):
    return (
        model.objects.filter(full_name="", first_name__regex=SCRIPT, last_name__regex=SCRIPT)
        .only("pk", "first_name", "last_name", "name")
        .order_by("pk")
    )


def rename(apps, schema_editor):
    from crm.customers.models.contacts import compose_contact_name

    Contact = apps.get_model("customers", "Contact")
    changed = []
    for contact in _candidates(Contact).iterator(chunk_size=2000):
        name = compose_contact_name("", contact.first_name, contact.last_name)
        if name != contact.name:
            contact.name = name
            changed.append(contact)
        if len(changed) >= 1000:
            Contact.objects.bulk_update(changed, ["name"])
            changed = []
    Contact.objects.bulk_update(changed, ["name"])


def rename_back(apps, schema_editor):
    """Given name first again, as before."""
    Contact = apps.get_model("customers", "Contact")
    changed = []
    for contact in _candidates(Contact).iterator(chunk_size=2000):
        name = f"{contact.first_name} {contact.last_name}".strip()[:200]
        if name != contact.name:
            contact.name = name
            changed.append(contact)
    Contact.objects.bulk_update(changed, ["name"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [("customers", "0011_contact_company_index_served_by_composite")]

    operations = [migrations.RunPython(rename, rename_back, elidable=True)]
