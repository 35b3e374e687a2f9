"""Google Workspace: Gmail, Drive, Docs, Calendar (components/google_workspace.py)."""

TYPES: dict[str, str] = {
    "GmailLoaderComponent": "google_workspace:GmailLoaderComponent",
    "GmailSendComponent": "google_workspace:GmailSendComponent",
    "GoogleDriveListComponent": "google_workspace:GoogleDriveListComponent",
    "GoogleDriveSearchComponent": "google_workspace:GoogleDriveSearchComponent",
    "GoogleDriveFetchComponent": "google_workspace:GoogleDriveFetchComponent",
    "GoogleDriveComponent": "google_workspace:GoogleDriveComponent",
    "GoogleCalendarListComponent": "google_workspace:GoogleCalendarListComponent",
    "GoogleCalendarCreateComponent": "google_workspace:GoogleCalendarCreateComponent",
    "GoogleOAuthToken": "google_workspace:GoogleOAuthToken",
}
