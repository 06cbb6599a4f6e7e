"""``planner.toml``: loaded, validated, and reported back with secrets redacted.

- :mod:`~planner.config.settings`: load the file, cross-check its tables, resolve the
  :class:`~planner.config.settings.Config` every command uses;
- :mod:`~planner.config.names`: the config's file name and environment variable (light);
- :mod:`~planner.config.schema`: what the file may say, as pydantic models (strict);
- :mod:`~planner.config.bounds`: the limits of numbers and names beyond their types;
- :mod:`~planner.config.adapter_options`: each account's network options, checked by its
  adapter when the file is loaded;
- :mod:`~planner.config.problems`: validation errors described by key path, for a person;
- :mod:`~planner.config.toml_locate`: the line of a key, for error messages;
- :mod:`~planner.config.report`: the resolved configuration as plain data (``config check``);
- :mod:`~planner.config.verify`: ``config check --online``, asking each network who the
  credentials belong to.

May import the adapters (to validate each account's options), the pure rule and slot
modules, :mod:`planner.errors` and :mod:`planner.redact`; never the store or click.
"""
