"""Meta Ad Library API (`ads_archive`): competitors' ads, for the Competitive Analyst.

Not an ad-platform connector (nothing is synced or changed): a read-only search client
and the records it returns. Base URL and version are settings
(`ADPLATFORM_META_AD_LIBRARY_BASE_URL`, `ADPLATFORM_META_AD_LIBRARY_VERSION`).
"""
