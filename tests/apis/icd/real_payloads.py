"""Real WHO ICD-API payloads, as printed in /work/shared/reference/icd-api.md §5 (sources there).

Content: International Classification of Diseases, Eleventh Revision (ICD-11), World Health
Organization (WHO) 2019 https://icd.who.int/browse11. Licensed under the Creative Commons
Attribution-NoDerivatives 3.0 IGO licence (CC BY-ND 3.0 IGO).

Verbatim where the reference prints a payload completely; lists the reference shortens with
"…" keep only their printed items. ``CONSTRUCTED`` payloads are explorer additions in the real
shape (marked, not WHO content), needed to complete a walk the reference does not print.
"""

from __future__ import annotations

R25 = "http://id.who.int/icd/release/11/2025-01/mms"
CTX = "http://id.who.int/icd/contexts/"

# §5.1 MultiVersion (real, 2026-01)
MULTIVERSION = {
    "@context": CTX + "contextForMultiVersion.json",
    "@id": "http://id.who.int/icd/release/11/mms",
    "title": {"@language": "en", "@value": "ICD-11 for Mortality and Morbidity Statistics"},
    "latestRelease": "http://id.who.int/icd/release/11/2026-01/mms",
    "release": [f"http://id.who.int/icd/release/11/{r}/mms" for r in (
        "2026-01", "2025-01", "2024-01", "2023-01", "2022-02", "2021-05", "2020-09", "2019-04",
        "2018")],
}

# §5.2 TopLevelLinearization 2025-01 (real key order; child list: the chapters printed)
TOP_2025 = {
    "@context": CTX + "contextForTopLevel.json",
    "@id": R25,
    "title": {"@language": "en", "@value": "ICD-11 for Mortality and Morbidity Statistics"},
    "releaseId": "2025-01",
    "availableLanguages": ["ar", "cs", "en", "es", "fr", "kk", "la", "pt", "ru", "sk", "sv",
                           "tr", "uz", "zh"],
    "releaseDate": "2025-01-24",
    "child": [f"{R25}/1435254666"],
    "browserUrl": "https://icd.who.int/browse/2025-01/mms/en",
}

# §5.5 chapter 01 (real 2025-01; children: only the block on the path to 1A00)
CHAPTER_01 = {
    "@context": CTX + "contextForLinearizationEntity.json",
    "@id": f"{R25}/1435254666",
    "parent": [R25],
    "child": [f"{R25}/588616678"],
    "browserUrl": "https://icd.who.int/browse/2025-01/mms/en#1435254666",
    "code": "01",
    "source": "http://id.who.int/icd/entity/1435254666",
    "classKind": "chapter",
    "foundationChildElsewhere": [{
        "label": {"@language": "en", "@value": "Infections of the fetus or newborn"},
        "foundationReference": "http://id.who.int/icd/entity/911707612",
        "linearizationReference": f"{R25}/911707612"}],
    "title": {"@language": "en", "@value": "Certain infectious or parasitic diseases"},
    "definition": {"@language": "en", "@value": "This chapter includes certain conditions "
                   "caused by pathogenic organisms or microorganisms, such as bacteria, "
                   "viruses, parasites or fungi."},
    "exclusion": [{
        "label": {"@language": "en", "@value": "Infection arising from device, implant or "
                  "graft, not elsewhere classified"},
        "foundationReference": "http://id.who.int/icd/entity/1612485599",
        "linearizationReference": f"{R25}/1612485599"}],
    "relatedEntitiesInPerinatalChapter": ["http://id.who.int/icd/entity/911707612"],
}

# CONSTRUCTED (explorer addition, real shape; ids, block ids and ranges from icd-api.md §5.5/§7)
BLOCK_L1 = {
    "@context": CTX + "contextForLinearizationEntity.json",
    "@id": f"{R25}/588616678", "parent": [f"{R25}/1435254666"],
    "child": [f"{R25}/135352227"],
    "browserUrl": "https://icd.who.int/browse/2025-01/mms/en#588616678",
    "code": "", "source": "http://id.who.int/icd/entity/588616678", "classKind": "block",
    "blockId": "BlockL1-1A0", "codeRange": "1A00-1A40.Z",
    "title": {"@language": "en", "@value": "Gastroenteritis or colitis of infectious origin"},
}
BLOCK_L2 = {
    "@context": CTX + "contextForLinearizationEntity.json",
    "@id": f"{R25}/135352227", "parent": [f"{R25}/588616678"],
    "child": [f"{R25}/257068234"],
    "browserUrl": "https://icd.who.int/browse/2025-01/mms/en#135352227",
    "code": "", "source": "http://id.who.int/icd/entity/135352227", "classKind": "block",
    "blockId": "BlockL2-1A0", "codeRange": "1A00-1A0Z",
    "title": {"@language": "en", "@value": "Bacterial intestinal infections"},
}

# §5.5 category 1A00 (real 2025-01; postcoordination scale entities abridged as printed)
CHOLERA = {
    "@context": CTX + "contextForLinearizationEntity.json",
    "@id": f"{R25}/257068234",
    "parent": [f"{R25}/135352227"],
    "browserUrl": "https://icd.who.int/browse/2025-01/mms/en#257068234",
    "code": "1A00",
    "source": "http://id.who.int/icd/entity/257068234",
    "classKind": "category",
    "postcoordinationScale": [
        {"@id": f"{R25}/257068234/postcoordinationScale/infectiousAgent",
         "axisName": "http://id.who.int/icd/schema/infectiousAgent",
         "requiredPostcoordination": "false", "allowMultipleValues": "AllowAlways",
         "scaleEntity": [f"{R25}/194483911", f"{R25}/802386629", f"{R25}/21927667"]},
        {"@id": f"{R25}/257068234/postcoordinationScale/associatedWith",
         "axisName": "http://id.who.int/icd/schema/associatedWith",
         "requiredPostcoordination": "false", "allowMultipleValues": "AllowAlways",
         "scaleEntity": [f"{R25}/1215034670", f"{R25}/1882742628/other"]}],
    "title": {"@language": "en", "@value": "Cholera"},
    "definition": {"@language": "en", "@value": "Cholera is a potentially epidemic and "
                   "life-threatening infection of the intestine, …"},
    "inclusion": [{"label": {"@language": "en", "@value": "cholera syndrome"}}],
    "fullySpecifiedName": {"@language": "en",
                           "@value": "Intestinal infection due to Vibrio cholerae"},
    "relatedEntitiesInPerinatalChapter": ["http://id.who.int/icd/entity/911707612"],
    "indexTerm": [
        {"label": {"@language": "en", "@value": "Cholera"}},
        {"label": {"@language": "en", "@value": "cholera syndrome"}},
        {"label": {"@language": "en", "@value": "asiatic cholera"}},
        {"label": {"@language": "en", "@value": "epidemic cholera"}},
        {"label": {"@language": "en", "@value": "Intestinal infection due to Vibrio cholerae"}},
        {"label": {"@language": "en",
                   "@value": "Cholera due to Vibrio cholerae O1, biovar cholerae"},
         "foundationReference": "http://id.who.int/icd/entity/1205958647"}],
}

# §5.6 CodeInfo, 2026-01 "live shape" (no title, follow stemId), here for 2025-01
CODEINFO_1A00 = {"@context": CTX + "contextForCodeInfo.json",
                 "@id": f"{R25}/codeinfo/1A00", "stemId": f"{R25}/257068234", "code": "1A00"}

# §5.6 postcoordinated CodeInfo (real, WHO 2.0 notes; 2019-04 URIs)
CODEINFO_CLUSTER = {
    "@context": CTX + "contextForCodeInfo.json",
    "@id": "http://id.who.int/icd/release/11/2019-04/mms/codeinfo/2C25.Z%26XK8G%26XA9HN5",
    "code": "2C25.Z&XK8G&XA9HN5",
    "stemId": "http://id.who.int/icd/release/11/2019-04/mms/316539081/unspecified",
    "stemCode": "2C25.Z", "laterality": ["XK8G"], "specificAnatomy": ["XA9HN5"],
}

# §5.7 ISearchResult for "fever" (real 2024-01; the three results the reference prints)
R24 = "http://id.who.int/icd/release/11/2024-01/mms"
SEARCH_FEVER = {
    "error": False, "errorMessage": None, "resultChopped": True,
    "wordSuggestionsChopped": False, "guessType": 2,
    "uniqueSearchId": "fc640f14-8c08-4a22-a436-757f1c3ffa96", "words": None,
    "destinationEntities": [
        {"id": f"{R24}/915343154", "title": "<em class='found'>Fever</em> of other or unknown "
         "origin", "stemId": f"{R24}/915343154", "isLeaf": True,
         "postcoordinationAvailability": 1, "hasCodingNote": False,
         "hasMaternalChapterLink": True, "hasPerinatalChapterLink": True,
         "matchingPVs": [
             {"propertyId": "Synonym", "label": "<em class='found'>fever</em>", "score": 1,
              "important": True, "foundationUri": "http://id.who.int/icd/entity/915343154",
              "propertyValueType": 0},
             {"propertyId": "Title", "label": "Other specified <em class='found'>fever</em>",
              "score": 0.8124864737870051, "important": False,
              "foundationUri": "http://id.who.int/icd/entity/1078560607",
              "propertyValueType": 1}],
         "propertiesTruncated": False, "isResidualOther": False,
         "isResidualUnspecified": False, "chapter": "21", "theCode": "MG26", "score": 1,
         "titleIsASearchResult": True, "titleIsTopScore": False, "entityType": 0,
         "important": False, "descendants": []},
        {"id": f"{R24}/1373335705", "title": "Familial Mediterranean <em class='found'>fever"
         "</em>", "theCode": "4A60.0", "chapter": "04", "score": 0.6903355173286607},
        {"id": f"{R24}/760139952/unspecified", "title": "Infectious mononucleosis, unspecified",
         "theCode": "1D81.Z", "isResidualUnspecified": True},
    ],
}

# §5.8 AutoCodingSearchResult (real 2024-01, and the no-match answer from codigo)
AUTOCODE_CVA = {"searchText": "Cerebrovascular accident",
                "matchingText": "cerebrovascular accident", "theCode": "8B20",
                "foundationURI": "http://id.who.int/icd/entity/1442995018",
                "linearizationURI": "http://id.who.int/icd/release/11/2024-01/mms/1442995018",
                "matchLevel": 0, "matchScore": 1, "matchType": 0}
AUTOCODE_NONE = {"searchText": "cholera", "matchLevel": 3, "matchScore": 0, "matchType": 0,
                 "isTitle": False}

# §5.4 FoundationEntity 1435254666 (real 2026-01; lists as printed)
FOUNDATION_01 = {
    "@context": CTX + "contextForFoundationEntity.json",
    "@id": "http://id.who.int/icd/entity/1435254666",
    "parent": ["http://id.who.int/icd/entity/455013390"],
    "child": ["http://id.who.int/icd/entity/588616678",
              "http://id.who.int/icd/entity/1904876434"],
    "browserUrl": "https://icd.who.int/browse/2026-01/foundation/en#1435254666",
    "title": {"@language": "en", "@value": "Certain infectious or parasitic diseases"},
    "synonym": [{"label": {"@language": "en", "@value": "infection NOS"}}],
    "definition": {"@language": "en", "@value": "This chapter includes certain conditions "
                   "caused by pathogenic organisms or microorganisms, such as bacteria, "
                   "viruses, parasites or fungi."},
    "exclusion": [{"label": {"@language": "en", "@value": "Infection arising from device, "
                             "implant or graft, not elsewhere classified"},
                   "foundationReference": "http://id.who.int/icd/entity/1612485599"}],
}

# §5.11 ICD-10 A00 (real, codigo)
ICD10_A00 = {
    "@context": CTX + "contextForICD10Entity.json",
    "@id": "http://id.who.int/icd/release/10/2019/A00",
    "parent": ["http://id.who.int/icd/release/10/2019/A00-A09"],
    "child": ["http://id.who.int/icd/release/10/2019/A00.0",
              "http://id.who.int/icd/release/10/2019/A00.1",
              "http://id.who.int/icd/release/10/2019/A00.9"],
    "browserUrl": "http://apps.who.int/classifications/icd10/browse/2019/en#/A00",
    "code": "A00", "title": {"@language": "en", "@value": "Cholera"}, "classKind": "category",
}
