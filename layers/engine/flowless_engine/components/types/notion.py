"""Notion's REST API nodes (components/notion.py)."""

TYPES: dict[str, str] = {
    "NotionSearch": "notion:NotionSearch",
    "NotionListPages": "notion:NotionListPages",
    "NotionPageContent": "notion:NotionPageContent",
    "NotionPageCreator": "notion:NotionPageCreator",
    "NotionPageUpdate": "notion:NotionPageUpdate",
    "NotionDatabaseProperties": "notion:NotionDatabaseProperties",
    "NotionUserList": "notion:NotionUserList",
    "AddContentToPage": "notion:AddContentToPage",
}
