"""The web consoles (DESIGN.md §6 ``/account`` and §8): server-rendered pages that sign people in
through the tenant's own ``/authorize`` and act through the same services as the APIs."""
