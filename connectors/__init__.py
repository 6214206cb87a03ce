"""connectors.

Importing the package makes ``singer_sdk`` load lazily (``lazy_sdk``): a tap process is started for
every sync of every source, and the SDK's package ``__init__`` would import its targets' machinery
(``joblib``, ``numpy``) into each of them.
"""

from connectors import lazy_sdk

lazy_sdk.install()
