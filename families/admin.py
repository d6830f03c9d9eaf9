"""Households, carers and children are not in the admin: trust admins are not in a family's need-to-know circle.
Staff who are see them on the product's pages, where each view is audited."""
