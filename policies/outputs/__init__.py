"""What the rules' results become: auditor reports (JUnit, SARIF, HTML, findings JSON) and the
Terraform-plan export checkov reads."""
