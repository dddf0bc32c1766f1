"""Session papers (tài liệu kỳ họp): checked PDFs, versions, confidential reading, annotations."""
