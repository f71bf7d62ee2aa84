from __future__ import annotations

from django.db import migrations


def backfill(apps, schema_editor):
    # Databases seeded before this app existed already have campaign-day rows.
    rollup = apps.get_model("analytics", "AccountDailyMetric")._meta.db_table
    source = apps.get_model("campaigns", "CampaignDailyMetric")._meta.db_table
    schema_editor.execute(
        f"""
        INSERT INTO {rollup} (organization_id, ad_account_id, platform, date, impressions,
            clicks, spend, conversions, conversion_value, video_views, reach, frequency)
        SELECT organization_id, ad_account_id, platform, date, SUM(impressions), SUM(clicks),
            SUM(spend), SUM(conversions), SUM(conversion_value), SUM(video_views), SUM(reach),
            NULL
        FROM {source}
        GROUP BY organization_id, ad_account_id, platform, date
        """
    )


class Migration(migrations.Migration):
    dependencies = [("analytics", "0001_initial")]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
