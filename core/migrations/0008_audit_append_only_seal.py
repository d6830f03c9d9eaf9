"""The audit trail becomes append-only: the actor's name kept as text, users and schools in the trail protected
from deletion, seal columns (filled once, after commit, by core.audit.audit_seal) and, in PostgreSQL only, triggers
that refuse DELETE and every UPDATE but the seal. Entries written before this stay unsealed until the first seal
chains them in id order."""

import django.db.models.deletion
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.conf import settings
from django.db import migrations, models


def keep_actor_names(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    for entry in AuditEntry.objects.filter(actor__isnull=False).select_related("actor").iterator():
        full_name = f"{entry.actor.first_name} {entry.actor.last_name}".strip()
        name = f"{entry.actor.username} ({full_name})" if full_name else entry.actor.username
        AuditEntry.objects.filter(pk=entry.pk).update(actor_name=name[:300])


class Migration(migrations.Migration):

    dependencies = [
        ('core', '0007_staff_schools_become_memberships'),
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
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='prev_hash',
            field=models.CharField(blank=True, editable=False, max_length=64, null=True),
        ),
        migrations.AddField(
            model_name='auditentry',
            name='seq',
            field=models.PositiveBigIntegerField(blank=True, editable=False, null=True, unique=True),
        ),
        migrations.RunPython(keep_actor_names, migrations.RunPython.noop),
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
        migrations.AddIndex(
            model_name='auditentry',
            index=models.Index(condition=models.Q(('seq__isnull', True)), fields=['id'], name='core_audit_unsealed'),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='auditentry',
            trigger=pgtrigger.compiler.Trigger(name='append_only', sql=pgtrigger.compiler.UpsertTriggerSql(func="RAISE EXCEPTION 'pgtrigger: Cannot delete rows from % table', TG_TABLE_NAME;", hash='17534857ae2f52ce00e5447fd02f886001eeaf61', operation='DELETE', pgid='pgtrigger_append_only_97da0', table='core_auditentry', when='BEFORE')),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name='auditentry',
            trigger=pgtrigger.compiler.Trigger(name='sealed_once', sql=pgtrigger.compiler.UpsertTriggerSql(condition='WHEN (((OLD."action" IS DISTINCT FROM (NEW."action") OR OLD."actor_id" IS DISTINCT FROM (NEW."actor_id") OR OLD."actor_name" IS DISTINCT FROM (NEW."actor_name") OR OLD."created_at" IS DISTINCT FROM (NEW."created_at") OR OLD."details" IS DISTINCT FROM (NEW."details") OR OLD."id" IS DISTINCT FROM (NEW."id") OR OLD."object_id" IS DISTINCT FROM (NEW."object_id") OR OLD."object_type" IS DISTINCT FROM (NEW."object_type") OR OLD."school_id" IS DISTINCT FROM (NEW."school_id") OR OLD."summary" IS DISTINCT FROM (NEW."summary"))) OR OLD."seq" IS NOT NULL OR NEW."seq" IS NULL OR NEW."prev_hash" IS NULL OR NEW."entry_hash" IS NULL)', func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;", hash='0cb4c2fcc41637e44455d1a2efeb2a921e786883', operation='UPDATE', pgid='pgtrigger_sealed_once_19c53', table='core_auditentry', when='BEFORE')),
        ),
    ]
