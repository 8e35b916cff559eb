"""Card data: values that mask themselves, brand rules, encryption of what must be kept."""
