"""Static files under hashed names, compressed, for WhiteNoise's long cache headers."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class HashedStaticFilesStorage(CompressedManifestStaticFilesStorage):
    # Rewrites `import ... from "./api.js";` and `import("./tasks.js")` in the web app's
    # modules to the hashed names, so a module and everything it loads change together.
    support_js_module_import_aggregation = True

    def stored_name(self, name: str) -> str:
        # Before any collectstatic (a source checkout, a settings probe) there is no
        # manifest: pages link the plain names, which WhiteNoise finds in the apps.
        if not self.hashed_files:
            return name
        return super().stored_name(name)
