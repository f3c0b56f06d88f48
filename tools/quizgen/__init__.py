"""Quiz tools: a generator of vocabulary quizzes from WordNet and CEFR word levels
(`python -m quizgen`) and an importer of quiz files into Firestore (`python -m quizgen.importer`)."""
