"""Static files under hashed names, compressed, for WhiteNoise's long cache headers."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # Rewrites `import ... from "./api.js";` and `import("./tasks.js")` in the web app's
    # modules to the hashed names, so a module and everything it loads change together.
    support_js_module_import_aggregation = True
