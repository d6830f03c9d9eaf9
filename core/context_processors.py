from .roles import Role, user_roles


def roles(request):
    """Role flags for templates (navigation shows each person only what they can use)."""
    names = user_roles(request.user)
    return {
        "role": {
            "staff": Role.STAFF in names,
            "dsl": Role.DSL in names,
            "principal": Role.PRINCIPAL in names,
            "senior": bool(names & {Role.DSL, Role.PRINCIPAL}),
            "office": Role.OFFICE in names,
            "trust_admin": Role.TRUST_ADMIN in names,
        }
    }
