"""YouTube: the Data API v3 nodes, transcripts and playlists (components/youtube.py)."""

TYPES: dict[str, str] = {
    "YouTubeTranscripts": "youtube:YouTubeTranscriptsComponent",
    "YouTubeCommentsComponent": "youtube:YouTubeCommentsComponent",
    "YouTubeSearchComponent": "youtube:YouTubeSearchComponent",
    "YouTubeVideoDetailsComponent": "youtube:YouTubeVideoDetailsComponent",
    "YouTubeChannelComponent": "youtube:YouTubeChannelComponent",
    "YouTubePlaylistComponent": "youtube:YouTubePlaylistComponent",
    "YouTubeTrendingComponent": "youtube:YouTubeTrendingComponent",
}
