"""The audit trail becomes append-only: the actor's name kept as text, each row chained to the one before by hash,
users and schools in the trail protected from deletion, and (PostgreSQL only) a trigger that refuses UPDATE and
DELETE. Rows written before this are chained here, in id order, before the trigger goes on."""

import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models

from core.models.audit import GENESIS_HASH, chain_hash


def chain_existing_entries(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    previous = GENESIS_HASH
    for entry in AuditEntry.objects.select_related("actor").order_by("id").iterator():
        if entry.actor_id:
            full_name = f"{entry.actor.first_name} {entry.actor.last_name}".strip()
            entry.actor_name = (f"{entry.actor.username} ({full_name})" if full_name else entry.actor.username)[:300]
        entry.prev_hash = previous
        entry.entry_hash = previous = chain_hash(entry)
        entry.save(update_fields=["actor_name", "prev_hash", "entry_hash"])


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0004_signin_policy_and_providers'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='auditentry',
            name='actor_name',
            field=models.CharField(blank=True, help_text="The actor's username and name as they acted.", max_length=300),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='entry_hash',
            field=models.CharField(default='', editable=False, max_length=64),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='prev_hash',
            field=models.CharField(default='', editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='actor',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='created_at',
            field=models.DateTimeField(db_index=True, default=django.utils.timezone.now, editable=False),
        ),
        migrations.AlterField(
            model_name='auditentry',
            name='school',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='core.school'),
        ),
        migrations.RunPython(chain_existing_entries, migrations.RunPython.noop),
        migrations.AlterField(
            model_name='auditentry',
            name='prev_hash',
            field=models.CharField(default='', editable=False, max_length=64, unique=True),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='auditentry',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;", hash='6b2652b5bb5129424469034ae53d5116f56d3e42', operation='UPDATE OR DELETE', pgid='pgtrigger_append_only_97da0', table='core_auditentry', when='BEFORE')),
        ),
    ]
