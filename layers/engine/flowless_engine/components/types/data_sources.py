"""API Request and the other data sources (components/api_request.py, sql.py, files_more.py)."""

TYPES: dict[str, str] = {
    "APIRequest": "api_request:APIRequestComponent",
    "SaveToFile": "files_more:SaveToFileComponent",
    "SQLComponent": "sql:SQLComponent",
    "CSVtoData": "files_more:CSVToDataComponent",
    "JSONtoData": "files_more:JSONToDataComponent",
    "Directory": "files_more:DirectoryComponent",
}
