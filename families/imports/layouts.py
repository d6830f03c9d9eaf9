"""The columns of an MIS export: our own fields, and the names each MIS gives them (the presets).

One row of the file is one pupil with one of their parents or carers (a pupil with three carers has three rows,
the pupil's columns repeated; a pupil with none has one row with the carer's columns empty). That is how each
MIS's "students with contacts" report comes out, and it is our own template's layout too
(docs/pupil-import-template.csv, also served by the import page).

The presets' names come from each supplier's published documentation and from the documentation of products that
read these MIS, as found in December 2026: SIMS .net's report designer field names (Capita/ESS SIMS handbooks;
"Legal Forename", "Adno", "Reg Group"...), Arbor's Custom Report Writer column names (Arbor help centre), Bromcom's
student and contact fields (Bromcom docs, and the SchoolCloud/ParentPay articles on what they read from Bromcom:
"Preferred Firstname", "Contact Prefix"...), and ScholarPack's pupil and contact export columns (ScholarPack help
centre). None has been checked against a real school's export yet: check each preset against one before relying on
it, and add the names you find to its list (matching ignores case, spaces and punctuation). A file whose columns
no preset finds is mapped by hand once, and that mapping is kept for the school's next import.
"""

import re

# Our field -> (label, required). Either the UPN or the MIS id is needed on every row (checked per row).
FIELDS: dict[str, tuple[str, bool]] = {
    "upn": ("UPN", False),
    "mis_id": ("MIS id of the pupil", False),
    "first_name": ("First name", True),
    "last_name": ("Surname", True),
    "date_of_birth": ("Date of birth", True),
    "year_group": ("Year group", True),
    "address_line1": ("Address line 1", True),
    "address_line2": ("Address line 2", False),
    "town": ("Town", True),
    "postcode": ("Postcode", True),
    "home_phone": ("Home telephone", False),
    "home_language": ("Home language", False),
    "urn": ("School URN", False),
    "carer_title": ("Carer's title", False),
    "carer_first_name": ("Carer's first name", False),
    "carer_last_name": ("Carer's surname", False),
    "carer_relationship": ("Carer's relationship to the pupil", False),
    "carer_parental_responsibility": ("Carer has parental responsibility", False),
    "carer_phone": ("Carer's mobile", False),
    "carer_email": ("Carer's email", False),
    "carer_language": ("Carer's language", False),
    "carer_literacy_support": ("Carer needs help with reading", False),
}
REQUIRED = [name for name, (_label, required) in FIELDS.items() if required]

# A preset: our field -> the names that column goes by in that MIS's export, most likely first. A name may be a
# tuple of columns joined with a space (SIMS splits the first address line into a house number and a street).
PRESETS: dict[str, tuple[str, dict[str, list]]] = {
    "template": (
        "Our template",
        {name: [name] for name in FIELDS},
    ),
    "sims": (
        "SIMS",
        {
            "upn": ["UPN"],
            "mis_id": ["Adno", "Admission Number", "Person ID"],
            "first_name": ["Legal Forename", "Forename"],
            "last_name": ["Legal Surname", "Surname"],
            "date_of_birth": ["DOB", "Date of Birth"],
            "year_group": ["Year", "Year Group", "NC Year Actual"],
            "address_line1": [("House Number", "Street"), "Address Line 1", "Street"],
            "address_line2": ["Locality", "District", "Address Line 2"],
            "town": ["Town"],
            "postcode": ["Postcode", "Post Code"],
            "home_phone": ["Home Telephone", "Telephone"],
            "home_language": ["Home Language", "First Language"],
            "urn": ["URN", "School URN"],
            "carer_title": ["Contact Title", "Title"],
            "carer_first_name": ["Contact Forename", "Contact Legal Forename"],
            "carer_last_name": ["Contact Surname", "Contact Legal Surname"],
            "carer_relationship": ["Relationship", "Relationship to Student"],
            "carer_parental_responsibility": ["Parental Responsibility"],
            "carer_phone": ["Contact Mobile", "Mobile Telephone", "Contact Telephone"],
            "carer_email": ["Contact Email", "Contact Email Address", "Personal Email Address"],
            "carer_language": ["Contact First Language", "Contact Language"],
        },
    ),
    "arbor": (
        "Arbor",
        {
            "upn": ["UPN"],
            "mis_id": ["Arbor ID", "Student ID"],
            "first_name": ["Legal first name", "First name"],
            "last_name": ["Legal last name", "Last name"],
            "date_of_birth": ["Date of birth"],
            "year_group": ["Year", "Year group"],
            "address_line1": ["Address line 1"],
            "address_line2": ["Address line 2"],
            "town": ["Town", "Town/City"],
            "postcode": ["Postcode"],
            "home_phone": ["Home phone", "Home telephone"],
            "home_language": ["First language", "Home language"],
            "urn": ["URN", "School URN"],
            "carer_title": ["Guardian title", "Contact title"],
            "carer_first_name": ["Guardian first name", "Contact first name"],
            "carer_last_name": ["Guardian last name", "Contact last name"],
            "carer_relationship": ["Guardian relationship", "Relationship"],
            "carer_parental_responsibility": ["Parental responsibility", "Guardian parental responsibility"],
            "carer_phone": ["Guardian mobile", "Guardian mobile number", "Contact mobile"],
            "carer_email": ["Guardian email", "Guardian email address", "Contact email"],
            "carer_language": ["Guardian first language", "Guardian language"],
            "carer_literacy_support": ["Guardian literacy support", "Literacy support"],
        },
    ),
    "bromcom": (
        "Bromcom",
        {
            "upn": ["UPN"],
            "mis_id": ["Student ID", "StudentId"],
            "first_name": ["Legal Firstname", "Firstname", "Preferred Firstname"],
            "last_name": ["Legal Lastname", "Lastname", "Preferred Lastname"],
            "date_of_birth": ["Date of Birth", "DOB"],
            "year_group": ["Year Group", "Year"],
            "address_line1": ["Address 1", "Address Line 1"],
            "address_line2": ["Address 2", "Address Line 2"],
            "town": ["Town", "City"],
            "postcode": ["Postcode", "Post Code"],
            "home_phone": ["Home Phone"],
            "home_language": ["First Language", "Home Language"],
            "urn": ["URN", "School URN"],
            "carer_title": ["Contact Prefix", "Contact Title"],
            "carer_first_name": ["Contact Firstname", "Contact Forename"],
            "carer_last_name": ["Contact Lastname", "Contact Surname"],
            "carer_relationship": ["Contact Relationship", "Relationship"],
            "carer_parental_responsibility": ["Contact Parental Responsibility", "Parental Responsibility"],
            "carer_phone": ["Contact Mobile", "Contact Phone"],
            "carer_email": ["Contact Email"],
            "carer_language": ["Contact First Language", "Contact Language"],
        },
    ),
    "scholarpack": (
        "ScholarPack",
        {
            "upn": ["UPN"],
            "mis_id": ["Pupil ID", "Student ID"],
            "first_name": ["Legal Forename", "Forename"],
            "last_name": ["Legal Surname", "Surname"],
            "date_of_birth": ["DOB", "Date of Birth"],
            "year_group": ["NC Year", "Year Group", "Year"],
            "address_line1": ["Address 1", "Address Line 1"],
            "address_line2": ["Address 2", "Address Line 2"],
            "town": ["Town"],
            "postcode": ["Post Code", "Postcode"],
            "home_phone": ["Home Telephone", "Home Phone"],
            "home_language": ["Home Language", "First Language"],
            "urn": ["URN"],
            "carer_title": ["Contact Title", "Contact 1 Title"],
            "carer_first_name": ["Contact Forename", "Contact 1 Forename"],
            "carer_last_name": ["Contact Surname", "Contact 1 Surname"],
            "carer_relationship": ["Contact Relationship", "Relationship"],
            "carer_parental_responsibility": ["Parental Responsibility", "Contact Parental Responsibility"],
            "carer_phone": ["Contact Mobile", "Contact Telephone"],
            "carer_email": ["Contact Email"],
            "carer_language": ["Contact Language", "Contact First Language"],
        },
    ),
}
CHOICES = [(key, label) for key, (label, _columns) in PRESETS.items()]


def column_key(name: str) -> str:
    """'Post Code', 'post_code' and 'POSTCODE' are one column."""
    return re.sub(r"[^a-z0-9]", "", name.lower())


def mapping_for(preset: str, header: list[str]) -> dict[str, list[str]]:
    """Our field -> the file's column(s) this preset finds in `header` (the file's own spelling)."""
    by_key = {}
    for name in header:
        by_key.setdefault(column_key(name), name)
    found = {}
    for field, names in PRESETS[preset][1].items():
        for option in names:
            parts = option if isinstance(option, tuple) else (option,)
            if all(column_key(part) in by_key for part in parts):
                found[field] = [by_key[column_key(part)] for part in parts]
                break
    return found


def best_preset(header: list[str]) -> str:
    """The preset that finds the most required fields (then the most fields) in this header."""

    def score(preset):
        found = mapping_for(preset, header)
        return (sum(1 for f in REQUIRED if f in found), len(found))

    return max(PRESETS, key=score)


def missing_fields(mapping: dict) -> list[str]:
    missing = [FIELDS[f][0] for f in REQUIRED if not mapping.get(f)]
    if not (mapping.get("upn") or mapping.get("mis_id")):
        missing.insert(0, "UPN (or the MIS id of the pupil)")
    return missing


def template_csv() -> str:
    """Our own template: the header and one fictional example row."""
    example = {
        "upn": "",
        "mis_id": "1001",
        "first_name": "Ellis",
        "last_name": "Quillfield",
        "date_of_birth": "2017-03-14",
        "year_group": "3",
        "address_line1": "12 Willow Lane",
        "address_line2": "",
        "town": "Eastbridge",
        "postcode": "EB2 3DE",
        "home_phone": "020 7946 0001",
        "home_language": "English",
        "urn": "",
        "carer_title": "Ms",
        "carer_first_name": "Rowan",
        "carer_last_name": "Pellingham",
        "carer_relationship": "Mother",
        "carer_parental_responsibility": "Yes",
        "carer_phone": "020 7946 0124",
        "carer_email": "rowan@example.org",
        "carer_language": "English",
        "carer_literacy_support": "No",
    }
    return ",".join(FIELDS) + "\r\n" + ",".join(example[f] for f in FIELDS) + "\r\n"
