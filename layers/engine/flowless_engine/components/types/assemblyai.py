"""AssemblyAI's bundle nodes (components/assemblyai.py); the older single Transcriber node is in
hosted_apis."""

TYPES: dict[str, str] = {
    "AssemblyAITranscriptionJobCreator": "assemblyai:AssemblyAITranscriptionJobCreator",
    "AssemblyAITranscriptionJobPoller": "assemblyai:AssemblyAITranscriptionJobPoller",
    "AssemblyAIGetSubtitles": "assemblyai:AssemblyAIGetSubtitles",
    "AssemblyAIListTranscripts": "assemblyai:AssemblyAIListTranscripts",
    "AssemblyAILeMUR": "assemblyai:AssemblyAILeMUR",
}
