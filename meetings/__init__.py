"""Council sessions (phòng họp không giấy) and video briefings (hội nghị trực tuyến)."""
