"""Processing, utilities and LangChain splitters (components/processing_more.py)."""

TYPES: dict[str, str] = {
    "JSONCleaner": "processing_more:JSONCleanerComponent",
    "FilterData": "processing_more:FilterDataComponent",
    "ParseJSONData": "processing_more:ParseJSONDataComponent",
    "DataOperations": "processing_more:DataOperationsComponent",
    "MergeDataComponent": "processing_more:MergeDataComponent",
    "DataFrameOperations": "processing_more:DataFrameOperationsComponent",
    "ParseDataFrame": "processing_more:ParseDataFrameComponent",
    "RegexExtractorComponent": "processing_more:RegexExtractorComponent",
    "Pass": "processing_more:PassComponent",
    "CurrentDate": "processing_more:CurrentDateComponent",
    "RecursiveCharacterTextSplitter": "processing_more:RecursiveCharacterTextSplitterComponent",
    "CharacterTextSplitter": "processing_more:CharacterTextSplitterComponent",
}
