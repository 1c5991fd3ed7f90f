#!/usr/bin/env python3
"""Builds catalog.json, the product catalog KmsFarm embeds, from the sources in ./sources.

Run from anywhere:  python3 src/KmsFarm.Protocol/Catalog/Data/generate_catalog.py
Needs Python 3.11+ (tomllib) and nothing else. The output is deterministic: rerunning on unchanged sources gives the
same bytes, so a diff of catalog.json shows exactly what a source change did. See README.md beside this file.

Precedence (most trusted first):
  1. sources/products.toml   - Microsoft licensing artifacts (CSVLK activation ids, group ids, key blocks as sets, which
                               KMS counted ids a CSVLK activates).
  2. sources/host-builds.toml - curated host builds (platform id, release date, NDR64).
  3. sources/vlmcs-full-db.json - vlmcsd's database: names, N_Policy, protocols, SKUs up to Server 2019 / Office 2019,
                               the Office 2010 and 2013 CSVLKs.
  4. sources/KmsDataBase.xml - py-kms: names, older CSVLKs (Vista .. Server 2022) and newer SKUs. Its Server 2025 and
                               Office 2024 KMS ids are name-based (version 5) UUIDs and are replaced by the counted ids
                               products.toml gives for those CSVLKs.
"""

from __future__ import annotations

import json
import sys
import tomllib
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCES = HERE / "sources"
OUTPUT = HERE / "catalog.json"

WINDOWS = "55c92734-d682-4d71-983e-d6ec3f16059f"
OFFICE2010 = "59a52881-a989-479d-af46-f275c6370663"
OFFICE2013 = "0ff1ce15-a989-479d-af46-f275c6370663"

# py-kms's synthesized (UUID v5) KMS ids -> the counted ids products.toml lists for the matching CSVLK.
PYKMS_KMS_REPLACEMENTS = {
    "4b83307d-7788-50ff-8d1f-1861915bdb9d": "907f1f65-adcd-4a2e-95bc-4bf500bc6e58",  # Windows Server 2025
    "1b4db7eb-4057-5ddf-91e0-36dec72071f5": "a8973cb5-bf03-0a4c-9cef-703099645ab3",  # Office LTSC 2024
}
PYKMS_KMS_DROPPED = {"e4ce4674-966b-5e34-9b98-e988af5fad64"}  # Vista pre-release: synthesized, no SKU needs it

# Names for the counted ids that appear only in products.toml.
NEW_KMS_NAMES = {
    "907f1f65-adcd-4a2e-95bc-4bf500bc6e58": "Windows Server 2025",
    "a8973cb5-bf03-0a4c-9cef-703099645ab3": "Office LTSC 2024",
}

# CSVLKs, keyed by a short stable id (used in configuration and in the farm identity).
# source "products" rows take group id, key blocks and activation list from products.toml; the release date comes
# from py-kms/vlmcsd (products.toml has none) or, where neither has one, the product's general-availability date.
PRODUCTS_CSVLKS = {
    # id: (activation id, display name, release date, lab, azure)
    "WindowsServer2025": ("84e331f6-4279-48c4-ab10-b75139181351", "Windows Server 2025", "2024-11-01", False, False),
    "WindowsServer2025Azure": ("82fcf64d-f9dd-4411-9c79-f2eed16d4eb8", "Windows Server 2025 (Azure only)", "2024-04-26", False, True),
    "WindowsServer2025Lab": ("6bad0243-1c35-46b2-b8e6-7a853e37413f", "Windows Server 2025 (lab)", "2024-04-26", True, False),
    "Windows10v2019": ("90da7373-1c51-430b-bf26-c97e9c5cdc31", "Windows 10 2019 (Volume)", "2018-10-02", False, False),
    "Windows10v2019Lab": ("60b3ec1b-9545-4921-821f-311b129dd6f6", "Windows 10 2019 (lab)", "2018-10-02", True, False),
    "Windows10v2016": ("30a42c86-b7a0-4a34-8c90-ff177cb2acb7", "Windows 10 2016 (Volume)", "2016-08-02", False, False),
    "Windows10v2016Lab": ("d552befb-48cc-4327-8f39-47d2d94f987c", "Windows 10 2016 (lab)", "2016-08-02", True, False),
    "Windows10v2015": ("0724cb7d-3437-4cb7-93cb-830375d0079d", "Windows 10 2015 (Volume)", "2015-07-29", False, False),
    "Windows10v2015Lab": ("7a802526-4c94-4bd1-ba14-835a1aca2120", "Windows 10 2015 (lab)", "2016-08-02", True, False),
    "WinChinaGov": ("ecc0774a-aed3-4e1a-b815-2b31781adfea", "Windows 10/11 China Government", "2017-04-05", False, False),
    "Office2016": ("98ebfe73-2084-4c97-932c-c0cd1643bea7", "Office 2016", "2015-09-22", False, False),
    "Office2019": ("70512334-47b4-44db-a233-be5ea33b914c", "Office 2019", "2018-09-24", False, False),
    "Office2021": ("47f3b983-7c53-4d45-abc6-bcd91e2dd90a", "Office LTSC 2021", "2021-09-16", False, False),
    # products.toml carries no date; Office LTSC 2024 became available on 2024-10-01.
    "Office2024": ("f3d89bbf-c0ec-47ce-a8fa-e5a5f97e447f", "Office LTSC 2024", "2024-10-01", False, False),
}

# Office CSVLKs in products.toml list no counted ids (the volume license pack does not join them to a KMS host
# licence), except 2024. Each Office CSVLK activates its own version's counted id.
OFFICE_ACTIVATES = {
    "Office2016": ["85b5f61b-320b-4be3-814a-b76b2bfafc82"],
    "Office2019": ["617d9eb1-ef36-4f82-86e0-a65ae07b96c6"],
    "Office2021": ["86d50b16-4808-41af-b83b-b338274318b2"],
    "Office2024": ["a8973cb5-bf03-0a4c-9cef-703099645ab3"],
}

# vlmcsd answers its "Windows 10 China Government" counted id with the China Government CSVLK; products.toml's list
# for that CSVLK does not name the id, so it is added here.
EXTRA_ACTIVATES = {"WinChinaGov": ["7ba0bf23-d0f5-4072-91d9-d55af5a481b6"]}

# CSVLKs products.toml does not have, taken from py-kms (single min..max block; activation list as py-kms gives it,
# i.e. only the product's own counted id, so these lists are partial). id -> py-kms CsvlkItem Id.
PYKMS_CSVLKS = {
    "WindowsServer2022": ("661f7658-7035-4b4c-9f35-010682943ec2", "Windows Server 2022", False),
    "WindowsServer2022Azure": ("e73aabfa-12bc-4705-b551-2dd076bebc7d", "Windows Server 2022 (Azure only)", False),
    "WindowsServer2022Lab": ("22105925-48c3-4ff4-a294-f654bb27e390", "Windows Server 2022 (lab)", True),
    "WindowsServer2019": ("2e7a9ad1-a849-4b56-babe-17d5a29fe4b4", "Windows Server 2019", False),
    "WindowsServer2019Lab": ("9db83b52-9904-4326-8957-ebe6feedf37c", "Windows Server 2019 (lab)", True),
    "WindowsServer2016": ("d6992aac-29e7-452a-bf10-bbfb8ccabe59", "Windows Server 2016", False),
    "WindowsServer2016Lab": ("3c2da9a5-1c6e-45d1-855f-fdbef536676f", "Windows Server 2016 (lab)", True),
    "WindowsServer2012R2Win10": ("20e938bb-df44-45ee-bde1-4e4fe7477f37", "Windows Server 2012 R2 (with Windows 10)", False),
    "WindowsServer2012R2Win10Lab": ("9e3fde40-d4b3-4c1d-9bde-32735aa19b39", "Windows Server 2012 R2 (with Windows 10, lab)", True),
    "WindowsServer2012R2": ("dcb88f6f-b090-405b-850e-dabcccf3693f", "Windows Server 2012 R2", False),
    "WindowsServer2012R2Lab": ("fe27276b-a5a9-4b4d-88e3-14271beb79be", "Windows Server 2012 R2 (lab)", True),
    "WindowsServer2012": ("7b37c913-252b-46be-ad80-b2b5ceade8af", "Windows Server 2012", False),
    "WindowsServer2008R2C": ("8fe15d04-fc66-40e6-bf34-942481e06fd8", "Windows Server 2008 R2 C (Datacenter)", False),
    "WindowsServer2008R2B": ("c99b641f-c4ea-4e63-bec3-5ed2ccd0f357", "Windows Server 2008 R2 B (Standard and Enterprise)", False),
    "WindowsServer2008R2A": ("f73d1bcd-0802-47dd-b2d9-81bf2f8c0744", "Windows Server 2008 R2 A (Web and HPC)", False),
    "WindowsServer2008C": ("c90d1b4e-8aa8-439e-8b9e-b6d6b6a6d975", "Windows Server 2008 C (Datacenter)", False),
    "WindowsServer2008B": ("56df4151-1f9f-41bf-acaa-2941c071872b", "Windows Server 2008 B (Standard and Enterprise)", False),
    "WindowsServer2008A": ("c448fa06-49d1-44ec-82bb-0085545c3b51", "Windows Server 2008 A (Web and HPC)", False),
    "WindowsPreview": ("d521c0fd-1732-4c15-8b98-a41b2a95bbc4", "Windows 10 and 8.1 (pre-release)", False),
    "Windows81": ("29d0b60f-66da-4858-bcaf-9eb513cd310d", "Windows 8.1", False),
    "Windows81Lab": ("4614b66f-a1d7-441c-9731-23f22d0ff4e5", "Windows 8.1 (lab)", True),
    "Windows8": ("24259a22-3bf0-44af-a68b-1b858bce1894", "Windows 8", False),
    "Windows8Lab": ("044ba67a-4c54-47ee-941a-d6f2efaa6891", "Windows 8 (lab)", True),
    "Windows7": ("d188820a-cb63-4bad-a9a2-40b843ee23b7", "Windows 7", False),
    "WindowsVista1": ("212a64dc-43b1-4d3d-a30c-2fc69d2095c6", "Windows Vista (1 of 2)", False),
    "WindowsVista2": ("4871de8b-3adf-4455-a7d3-fd7b6c01c939", "Windows Vista (2 of 2)", False),
}
# py-kms gives a key range but no date for these; general-availability dates.
PYKMS_RELEASE_FALLBACK = {"WindowsServer2012": "2012-09-04"}
# py-kms writes Server 2022 as one 0..20029999 range; its key blocks have a hole at 20000..29999 (BEHAVIOUR.md §5).
KEY_BLOCK_OVERRIDES = {
    "WindowsServer2022": [(0, 19999), (30000, 20029999)],
}
# py-kms reuses the Vista KMS counted id as the first Vista CSVLK's id; do not present it as an activation id.
NO_ACTIVATION_ID = {"WindowsVista1"}

# CSVLKs only vlmcsd has (by its ini name).
VLMCSD_CSVLKS = {
    "Office2010": ("Office2010", "Office 2010", "bfe7a195-4f8f-4f0b-a622-cf13c7d16864", ["e85af946-2e25-47b7-83e1-bebcebeac611"]),
    "Office2013": ("Office2013", "Office 2013", "2e28138a-847f-42bc-9752-61b03fff33cd", ["e6a6f1bf-9d40-40c3-aa9f-c77ba21578c0"]),
}

APPLICATIONS = [
    {"id": WINDOWS, "name": "Windows", "group": "Windows", "fallbackCsvlk": "WindowsServer2025"},
    {"id": OFFICE2010, "name": "Office 2010", "group": "Office2010", "fallbackCsvlk": "Office2010"},
    {"id": OFFICE2013, "name": "Office 2013 and later", "group": "Office2013Plus", "fallbackCsvlk": "Office2024"},
]

# Short names for `kmsfarm-client --product NAME`: SKU display name (exact, from the sources) -> aliases.
ALIASES = {
    "Windows 10 Professional": ["win10-pro", "win11-pro", "Windows 10 Pro", "Windows 11 Pro", "Windows 11 Professional"],
    "Windows 10 Enterprise": ["win10-ent", "win11-ent", "Windows 11 Enterprise"],
    "Windows 10 Education": ["win10-edu", "win11-edu", "Windows 11 Education"],
    "Windows 10 Enterprise LTSC 2019": ["win10-ltsc2019", "win10-ltsc2021", "win11-ltsc2024", "Windows 10 LTSC 2019",
                                        "Windows 10 LTSC 2021", "Windows 10 Enterprise LTSC 2021", "Windows 11 Enterprise LTSC 2024"],
    "Windows 7 Professional": ["win7-pro", "Windows 7 Pro"],
    "Windows 7 Enterprise": ["win7-ent"],
    "Windows 8.1 Professional": ["win81-pro", "Windows 8.1 Pro"],
    "Windows Vista Business": ["vista-business"],
    "Windows Server 2008 R2 Standard": ["ws2008r2-std"],
    "Windows Server 2008 R2 Datacenter": ["ws2008r2-dc"],
    "Windows Server 2012 R2 Standard": ["ws2012r2-std"],
    "Windows Server 2012 R2 Datacenter": ["ws2012r2-dc"],
    "Windows Server 2016 Standard": ["ws2016-std"],
    "Windows Server 2016 Datacenter": ["ws2016-dc"],
    "Windows Server 2019 Standard": ["ws2019-std"],
    "Windows Server 2019 Datacenter": ["ws2019-dc"],
    "Windows Server 2022 Standard": ["ws2022-std"],
    "Windows Server 2022 Datacenter": ["ws2022-dc"],
    "Windows Server 2025 Standard": ["ws2025-std"],
    "Windows Server 2025 Datacenter": ["ws2025-dc"],
    "Office Professional Plus 2010": ["office2010-proplus", "Office 2010 ProPlus"],
    "Office Professional Plus 2013": ["office2013-proplus", "Office 2013 ProPlus"],
    "Office Professional Plus 2016": ["office2016-proplus", "Office 2016 ProPlus"],
    "Office Professional Plus 2019": ["office2019-proplus", "Office 2019 ProPlus"],
    "Office LTSC Professional Plus 2021": ["office2021-proplus", "Office LTSC 2021 ProPlus", "Office 2021 ProPlus"],
    "Office LTSC Professional Plus 2024": ["office2024-proplus", "Office LTSC 2024 ProPlus", "Office 2024 ProPlus"],
}


# Windows 11 kept the SKU (activation) ids of the Windows 10 editions it shares, so one SKU is both, and a name that
# says only "Windows 10" misleads whoever asked for Windows 11. These SKUs are named for both (source name -> new
# name); the source name, "Windows 10 EDITION" and "Windows 11 EDITION" stay as aliases, so every spelling finds them.
# Not here: the 2015/2016 LTSB SKUs, "Remote Server" and "S (Lean)" (Windows 10 only), and Windows 11 SE (11 only).
WINDOWS_10_11_SHARED = {
    "Windows 10 Professional": "Windows 10/11 Pro",
    "Windows 10 Professional N": "Windows 10/11 Pro N",
    "Windows 10 Professional Education": "Windows 10/11 Pro Education",
    "Windows 10 Professional Education N": "Windows 10/11 Pro Education N",
    "Windows 10 Professional Workstation": "Windows 10/11 Pro for Workstations",
    "Windows 10 Professional Workstation N": "Windows 10/11 Pro N for Workstations",
    "Windows 10 Education": "Windows 10/11 Education",
    "Windows 10 Education N": "Windows 10/11 Education N",
    "Windows 10 Enterprise": "Windows 10/11 Enterprise",
    "Windows 10 Enterprise N": "Windows 10/11 Enterprise N",
    "Windows 10 Enterprise G": "Windows 10/11 Enterprise G",
    "Windows 10 Enterprise GN": "Windows 10/11 Enterprise GN",
    "Windows 10 Enterprise for Virtual Desktops": "Windows 10/11 Enterprise multi-session",
    "Windows 10 Home": "Windows 10/11 Home",
    "Windows 10 Home N": "Windows 10/11 Home N",
    "Windows 10 Home Single Language": "Windows 10/11 Home Single Language",
    "Windows 10 Home Country Specific": "Windows 10/11 Home Country Specific",
    # One SKU for Windows 10 Enterprise LTSC 2019 and 2021 and Windows 11 Enterprise LTSC 2024 (one GVLK).
    "Windows 10 Enterprise LTSC 2019": "Windows 10/11 Enterprise LTSC 2019/2021/2024",
    "Windows 10 Enterprise LTSC 2019 N": "Windows 10/11 Enterprise LTSC 2019/2021/2024 N",
}


def shared_name_aliases(source_name: str, new_name: str) -> list[str]:
    """The spellings a shared SKU keeps: its source name and the edition under each version's own name."""
    edition = new_name.removeprefix("Windows 10/11 ")
    if "/" in edition:
        return [source_name]  # The LTSC SKU: its per-version names are explicit aliases (ALIASES).
    return [source_name, f"Windows 10 {edition}", f"Windows 11 {edition}"]


def fail(message: str) -> None:
    print(f"generate_catalog: {message}", file=sys.stderr)
    sys.exit(1)


def guid(text: str) -> str:
    return str(uuid.UUID(text.strip("{}")))


def load_sources():
    products = tomllib.loads((SOURCES / "products.toml").read_text(encoding="utf-8"))
    builds = tomllib.loads((SOURCES / "host-builds.toml").read_text(encoding="utf-8"))
    vlmcs = json.loads((SOURCES / "vlmcs-full-db.json").read_text(encoding="utf-8"))
    pykms = ET.parse(SOURCES / "KmsDataBase.xml").getroot()
    return products, builds, vlmcs, pykms


def build_csvlks(products, vlmcs, pykms):
    toml_by_id = {p["activation_id"]: p for p in products["product"] if p["key_type"] == "Volume:CSVLK"}
    csvlks = []
    for cid, (act, name, release, lab, azure) in PRODUCTS_CSVLKS.items():
        row = toml_by_id.get(act) or fail(f"{cid}: CSVLK {act} not in products.toml")
        activates = [guid(g) for g in row["counted_ids"]] or OFFICE_ACTIVATES.get(cid, [])
        activates = sorted(set(activates) | set(OFFICE_ACTIVATES.get(cid, [])) | set(EXTRA_ACTIVATES.get(cid, [])))
        csvlks.append({
            "id": cid, "activationId": act, "name": name, "applicationId": guid(row["application"]),
            "groupId": row["group_id"],
            "keyBlocks": [{"first": b["start"], "last": b["end"]} for b in row["key_blocks"]],
            "releaseDate": release, "isLab": lab, "isAzure": azure, "isPreview": False,
            "activates": sorted(activates), "source": "products.toml",
        })

    pykms_items = {}
    for item in pykms.find("CsvlkItems"):
        if item.get("Id") and item.get("Id") not in pykms_items:
            pykms_items[item.get("Id")] = item
    for cid, (act, name, lab) in PYKMS_CSVLKS.items():
        item = pykms_items.get(act) or fail(f"{cid}: CSVLK {act} not in KmsDataBase.xml")
        release = (item.get("ReleaseDate") or "")[:10] or PYKMS_RELEASE_FALLBACK.get(cid) or fail(f"{cid}: no release date")
        blocks = KEY_BLOCK_OVERRIDES.get(cid) or [(int(item.get("MinKeyId")), int(item.get("MaxKeyId")))]
        activates = sorted({guid(a.get("KmsItem")) for a in item.findall("Activate")} - PYKMS_KMS_DROPPED)
        csvlks.append({
            "id": cid, "activationId": None if cid in NO_ACTIVATION_ID else guid(act), "name": name,
            "applicationId": WINDOWS, "groupId": int(item.get("GroupId")),
            "keyBlocks": [{"first": a, "last": b} for a, b in blocks],
            "releaseDate": release, "isLab": lab, "isAzure": "Azure" in name,
            "isPreview": (item.get("IsPreview") or "").lower() == "true",
            "activates": activates, "source": "KmsDataBase.xml",
        })

    vl_by_ini = {c["ini_name"]: c for c in vlmcs["csvlk"]}
    app_of = {"Office2010": OFFICE2010, "Office2013": OFFICE2013}
    for cid, (ini, name, act, activates) in VLMCSD_CSVLKS.items():
        c = vl_by_ini.get(ini) or fail(f"{cid}: {ini} not in vlmcs-full-db.json")
        csvlks.append({
            "id": cid, "activationId": act, "name": name, "applicationId": app_of[cid], "groupId": c["group_id"],
            "keyBlocks": [{"first": c["min_key_id"], "last": c["max_key_id"]}],
            "releaseDate": c["release_date"], "isLab": False, "isAzure": False, "isPreview": False,
            "activates": activates, "source": "vlmcs-full-db.json",
        })
    return csvlks


def build_products(vlmcs, pykms, csvlks):
    app_guid = {a["index"]: guid(a["guid"]) for a in vlmcs["apps"]}
    products = {}
    for k in vlmcs["kms"]:
        gid = guid(k["guid"])
        products[gid] = {
            "id": gid, "name": k["name"], "applicationId": app_guid[k["app_index"]], "nPolicy": k["n_count_policy"],
            "isRetail": bool(k["is_retail"]), "isPreview": bool(k["is_preview"]), "defaultProtocol": k["protocol"],
            "source": "vlmcs-full-db.json",
        }
    for app in pykms.find("AppItems"):
        for k in app.findall("KmsItem"):
            gid = guid(k.get("Id"))
            gid = PYKMS_KMS_REPLACEMENTS.get(gid, gid)
            if gid in products or gid in PYKMS_KMS_DROPPED:
                continue
            proto = k.get("DefaultKmsProtocol") or k.get("DefaultKmsprotocol") or "6.0"
            products[gid] = {
                "id": gid, "name": NEW_KMS_NAMES.get(gid, k.get("DisplayName")), "applicationId": guid(app.get("Id")),
                "nPolicy": int(k.get("NCountPolicy") or 25),
                "isRetail": (k.get("IsRetail") or "").lower() == "true",
                "isPreview": (k.get("IsPreview") or "").lower() == "true",
                "defaultProtocol": int(float(proto)),
                "source": "products.toml" if gid in NEW_KMS_NAMES else "KmsDataBase.xml",
            }

    # The CSVLK whose ePID answers a product: the newest regular CSVLK of the same application that activates it,
    # then Azure-only, lab and pre-release ones; a product no CSVLK lists uses its application's fallback.
    fallback = {a["id"]: a["fallbackCsvlk"] for a in APPLICATIONS}

    def rank(c):
        return (c["isPreview"], c["isLab"], c["isAzure"], -int(c["releaseDate"].replace("-", "")), c["id"])

    for p in products.values():
        candidates = [c for c in csvlks if c["applicationId"] == p["applicationId"] and p["id"] in c["activates"]]
        p["csvlk"] = min(candidates, key=rank)["id"] if candidates else fallback[p["applicationId"]]
    return [dict(sorted(p.items(), key=lambda kv: PRODUCT_KEYS.index(kv[0]))) for p in
            sorted(products.values(), key=lambda p: (p["applicationId"], p["name"]))]


PRODUCT_KEYS = ["id", "name", "applicationId", "nPolicy", "csvlk", "isRetail", "isPreview", "defaultProtocol", "source"]


def build_skus(vlmcs, pykms, products, toml_products):
    kms_guid = {k["index"]: guid(k["guid"]) for k in vlmcs["kms"]}
    skus = {}
    for s in vlmcs["skus"]:
        gid = guid(s["guid"])
        skus[gid] = {"id": gid, "name": s["name"], "kmsCountedId": kms_guid[s["kms_index"]], "source": "vlmcs-full-db.json"}
    for app in pykms.find("AppItems"):
        for k in app.findall("KmsItem"):
            kid = PYKMS_KMS_REPLACEMENTS.get(guid(k.get("Id")), guid(k.get("Id")))
            for s in k.findall("SkuItem"):
                gid = guid(s.get("Id"))
                if gid not in skus:
                    skus[gid] = {"id": gid, "name": s.get("DisplayName"), "kmsCountedId": kid, "source": "KmsDataBase.xml"}

    known = {p["id"] for p in products}
    for s in skus.values():
        if s["kmsCountedId"] not in known:
            fail(f"SKU {s['name']} ({s['id']}) maps to unknown KMS id {s['kmsCountedId']}")

    # Cross-check: the Server 2025 GVLK activation ids of products.toml must be SKUs of Server 2025.
    gvlks = {p["activation_id"] for p in toml_products if p["key_type"] == "Volume:GVLK"}
    for sid in ("c052f164-cdf6-409a-a0cb-853ba0f0f55a", "7dc26449-db21-4e09-ba37-28f2958506a6"):
        if sid not in gvlks or skus[sid]["kmsCountedId"] != "907f1f65-adcd-4a2e-95bc-4bf500bc6e58":
            fail(f"Server 2025 SKU {sid} does not line up with products.toml")

    # Names must be unique for --product lookups: vlmcsd has two "Windows 10 … Preview" SKUs with different KMS ids;
    # such names get the KMS product's name appended.
    kms_name = {p["id"]: p["name"] for p in products}
    counts = {}
    for s in skus.values():
        counts[s["name"].lower()] = counts.get(s["name"].lower(), 0) + 1
    for s in skus.values():
        if counts[s["name"].lower()] > 1:
            s["name"] = f"{s['name']} ({kms_name[s['kmsCountedId']]})"

    by_name = {}
    for s in skus.values():
        by_name.setdefault(s["name"].lower(), []).append(s)
    for name, aliases in ALIASES.items():
        matches = by_name.get(name.lower()) or fail(f"alias target '{name}' is not a SKU name")
        if len(matches) != 1:
            fail(f"alias target '{name}' is ambiguous")
        matches[0]["aliases"] = aliases
    for source_name, new_name in WINDOWS_10_11_SHARED.items():
        matches = by_name.get(source_name.lower()) or fail(f"shared Windows 10/11 SKU '{source_name}' is not a SKU name")
        if len(matches) != 1 or new_name.lower() in by_name:
            fail(f"shared Windows 10/11 SKU '{source_name}' is ambiguous, or '{new_name}' is taken")
        sku = matches[0]
        sku["name"] = new_name
        aliases = shared_name_aliases(source_name, new_name) + sku.get("aliases", [])
        sku["aliases"] = [a for i, a in enumerate(aliases) if a != new_name and a.lower() not in {b.lower() for b in aliases[:i]}]
    out = []
    for s in sorted(skus.values(), key=lambda s: (s["name"].lower(), s["id"])):
        out.append({"id": s["id"], "name": s["name"], "kmsCountedId": s["kmsCountedId"],
                    "aliases": s.get("aliases", []), "source": s["source"]})
    return out


def build_host_builds(builds, csvlks):
    """The host-build table. A KMS host build (use_for_epid) lists the CSVLKs whose oldest possible host it is; every
    CSVLK of the catalog must be listed by exactly one KMS host build, and only by one."""
    out = []
    known = {c["id"] for c in csvlks}
    placed = {}
    for b in sorted(builds["host_build"], key=lambda b: b["build"]):
        if b.get("use_for_epid") and not b.get("release_date"):
            fail(f"host build {b['build']} is usable for an ePID but has no release date")
        ids = b.get("csvlks", [])
        if ids and not b.get("use_for_epid"):
            fail(f"host build {b['build']} lists CSVLKs but is not a KMS host build (use_for_epid)")
        for cid in ids:
            if cid not in known:
                fail(f"host build {b['build']} lists unknown CSVLK '{cid}'")
            if cid in placed:
                fail(f"CSVLK '{cid}' is listed by host builds {placed[cid]} and {b['build']}")
            placed[cid] = b["build"]
        entry = {
            "build": b["build"], "platformId": b["platform_id"], "releaseDate": b.get("release_date"),
            "ndr64": b["ndr64"], "useForEpid": b["use_for_epid"], "name": b["description"],
        }
        if b.get("use_for_epid"):
            entry["csvlks"] = sorted(ids)
        out.append(entry)
    missing = sorted(known - placed.keys())
    if missing:
        fail(f"no KMS host build lists CSVLK(s) {', '.join(missing)}: say which build each can first be installed on")
    return out


def main() -> None:
    products_toml, builds, vlmcs, pykms = load_sources()
    csvlks = build_csvlks(products_toml, vlmcs, pykms)
    products = build_products(vlmcs, pykms, csvlks)
    skus = build_skus(vlmcs, pykms, products, products_toml["product"])
    catalog = {
        "format": 1,
        "comment": "GENERATED by generate_catalog.py from ./sources - do not edit by hand; see README.md.",
        "applications": APPLICATIONS,
        "csvlks": sorted(csvlks, key=lambda c: (c["applicationId"], c["id"])),
        "products": products,
        "skus": skus,
        "hostBuilds": build_host_builds(builds, csvlks),
    }
    OUTPUT.write_text(json.dumps(catalog, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"wrote {OUTPUT.name}: {len(csvlks)} CSVLKs, {len(products)} KMS ids, {len(skus)} SKUs, "
          f"{len(catalog['hostBuilds'])} host builds")


if __name__ == "__main__":
    main()
